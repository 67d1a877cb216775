import { formatBytes, LOW_FREE_BYTES, storageWarnings } from './storage';

const GB = 1024 ** 3;

describe('storage warnings', () => {
  test('unsent records in storage that is not persistent are warned about; once sent, or with persistence, not', () => {
    const facts = { persisted: false, usage: 2_000_000, quota: 10 * GB };
    expect(storageWarnings(facts, 3)).toEqual([expect.stringMatching(/^3 records are not sent yet and this browser may clear/)]);
    expect(storageWarnings(facts, 0)).toEqual([]);
    expect(storageWarnings({ ...facts, persisted: true }, 3)).toEqual([]);
    expect(storageWarnings({ ...facts, persisted: null }, 3)).toEqual([]);
  });

  test('little free quota is warned about, in absolute terms or as a share of the quota', () => {
    expect(storageWarnings({ persisted: true, usage: GB, quota: GB + LOW_FREE_BYTES - 1 }, 0)).toEqual([
      expect.stringMatching(/^Storage is nearly full: 100 MB left/),
    ]);
    expect(storageWarnings({ persisted: true, usage: 95 * GB, quota: 100 * GB }, 0)).toHaveLength(1);
    expect(storageWarnings({ persisted: true, usage: GB, quota: 100 * GB }, 0)).toEqual([]);
    expect(storageWarnings({ persisted: true, usage: null, quota: null }, 0)).toEqual([]);
  });

  test('sizes read as a person reads them', () => {
    expect(formatBytes(512)).toBe('512 bytes');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(250 * 1024 * 1024)).toBe('250 MB');
  });
});
