import { defaultHashSha256 } from 'rxdb';
import { hashFunction } from './db';

test('without crypto.subtle (plain http on a LAN), RxDB gets the same SHA-256 hex as with it', async () => {
  const inputs = ['', 'dispenses', 'Pharmacie Saint-Éloi ℞', 'x'.repeat(5000)];
  const native = await Promise.all(inputs.map((i) => defaultHashSha256(i)));
  const subtle = globalThis.crypto.subtle;
  Object.defineProperty(globalThis.crypto, 'subtle', { value: undefined, configurable: true });
  try {
    expect(await Promise.all(inputs.map((i) => hashFunction(i)))).toEqual(native);
    expect(await hashFunction(new TextEncoder().encode('dispenses').buffer as ArrayBuffer)).toBe(native[1]);
  } finally {
    Object.defineProperty(globalThis.crypto, 'subtle', { value: subtle, configurable: true });
  }
});
