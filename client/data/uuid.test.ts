import { z } from 'zod';
import { uuidV4, uuidV7 } from './uuid';

describe('uuidV4', () => {
  const original = crypto.randomUUID;
  afterEach(() => {
    Object.defineProperty(crypto, 'randomUUID', { value: original, configurable: true, writable: true });
  });

  test('without crypto.randomUUID (plain http on a LAN), it still makes distinct version-4 UUIDs the record schema accepts', () => {
    Object.defineProperty(crypto, 'randomUUID', { value: undefined, configurable: true, writable: true });
    const ids = Array.from({ length: 1000 }, uuidV4);
    expect(new Set(ids).size).toBe(1000);
    for (const id of ids) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(z.uuid().safeParse(id).success).toBe(true);
    }
  });
});

describe('uuidV7', () => {
  test('time-ordered version-7 UUIDs: the time in the first 48 bits, distinct within one millisecond, accepted by the record schema', () => {
    const at = Date.parse('2026-11-30T08:00:00.000Z');
    const ids = Array.from({ length: 1000 }, () => uuidV7(at));
    expect(new Set(ids).size).toBe(1000);
    for (const id of ids) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(at);
      expect(z.uuid().safeParse(id).success).toBe(true);
    }
    // A later millisecond sorts after an earlier one, as text and as PostgreSQL's uuid (bytewise).
    expect(uuidV7(at) < uuidV7(at + 1)).toBe(true);
    expect(uuidV7(at + 1) < uuidV7(at + 1000)).toBe(true);
  });
});
