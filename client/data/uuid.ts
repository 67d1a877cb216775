/**
 * UUIDs made on the device. `crypto.randomUUID` exists only in secure contexts (https, localhost);
 * a pharmacy LAN served over plain http has `getRandomValues` only.
 */

function formatted(b: Uint8Array): string {
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A random (version 4) UUID: device ids and other ids with no order. */
export function uuidV4(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40; // version 4
  b[8] = (b[8] & 0x3f) | 0x80; // RFC 9562 variant
  return formatted(b);
}

/**
 * A time-ordered (version 7, RFC 9562) UUID: the first 48 bits are the Unix time in milliseconds,
 * the remaining 74 random. New records' ids: a record made now lands at the end of the server's
 * `external_id` index instead of on a random page of it, which keeps that index's hot part in
 * memory at ten million records (docs/benchmarks.md, "v4 against v7": push at 10M was 67% of its
 * empty-table rate with random ids and 136% with time-ordered ones). Nothing relies on the order:
 * a device with a wrong clock makes ids as unique as any, and version-4 ids stay valid.
 */
export function uuidV7(nowMs = Date.now()): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  let t = Math.max(0, Math.floor(nowMs));
  for (let i = 5; i >= 0; i--) {
    b[i] = t % 256;
    t = Math.floor(t / 256);
  }
  b[6] = (b[6] & 0x0f) | 0x70; // version 7
  b[8] = (b[8] & 0x3f) | 0x80; // RFC 9562 variant
  return formatted(b);
}
