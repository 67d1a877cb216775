import { z } from 'zod';
import { uuidV4 } from './uuid';

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
