/**
 * Devices and proof of delivery, and the site's export: what a device reports after each sync
 * run, what a site admin reads of the site's devices, and the export's period. Both sides parse
 * with these; the README's API table says what each route does.
 */
import { z } from 'zod';
import { offlineAccessSchema } from './api';
import { isoInstant } from './dispense';

/** A device id as the server accepts it in X-Device-Id (made by the client, see client/data/site.ts). */
export const DEVICE_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** A device warns its user when its clock is further than this from the server's. */
export const CLOCK_WARN_MS = 5 * 60_000;
/** The server refuses instants further ahead of its own clock than this (code clock_ahead); CLOCK_AHEAD_LIMIT_MINUTES sets it. */
export const CLOCK_AHEAD_LIMIT_MS = 10 * 60_000;
/** A device unseen for longer than this with records pending is flagged. */
export const STALE_DEVICE_MS = 24 * 60 * 60_000;

/** A report lists at most this many of the records the device holds back (refusedCount says how many there are). */
export const MAX_REPORTED_REFUSED = 20;

/** A record the server refused that the device holds back: which one, and why, for the site's admin. */
export const refusedRecordSchema = z.strictObject({
  externalId: z.string().min(1).max(64),
  patientId: z.string().max(64),
  patientName: z.string().max(200).optional(),
  medicationName: z.string().max(200),
  dispensedAt: isoInstant(),
  voided: z.boolean(),
  /** The server's refusal code (e.g. clock_ahead, wrong_site) and its reason, as the device holds it. */
  code: z.string().max(64),
  reason: z.string().max(500),
});
export type RefusedRecord = z.infer<typeof refusedRecordSchema>;

/** POST /api/sync/devices/report: this device's figures, sent with X-Device-Id after each sync run. */
export const deviceReportSchema = z.strictObject({
  /** Records on the device the server has not confirmed (exact, rejected ones excluded). */
  pendingCount: z.number().int().min(0).max(100_000_000),
  /** When the oldest of those was saved on the device; null when none is pending. */
  oldestPendingAt: isoInstant().nullable(),
  appVersion: z.string().min(1).max(64),
  /** Records made on this device since it was set up (its site database and device id). */
  madeCount: z.number().int().min(0).max(100_000_000),
  /** The device's clock when it sent the report: the server measures the offset from it. */
  deviceTime: isoInstant(),
  /** Records the server refused that the device holds back until they are corrected (absent: an older app). */
  refusedCount: z.number().int().min(0).max(100_000_000).optional(),
  /** The first of them, newest refusal first. */
  refused: z.array(refusedRecordSchema).max(MAX_REPORTED_REFUSED).optional(),
});
export type DeviceReport = z.infer<typeof deviceReportSchema>;

export const deviceReportResponseSchema = z.object({
  /** The server's clock when it answered. */
  serverTime: isoInstant(),
  /** The device's clock minus the server's as the server measured it (the request's travel time included). */
  clockOffsetMs: z.number().int(),
  /** How many of the records this device made the server holds: fewer than it made and has not sent means records were lost (a restored backup). */
  serverHolds: z.number().int(),
  /** Whose offline verifiers this device may keep (schemas/api.ts offlineAccessSchema). */
  offlineAccess: offlineAccessSchema,
});
export type DeviceReportResponse = z.infer<typeof deviceReportResponseSchema>;

export const deviceSchema = z.object({
  deviceId: z.string(),
  /** The name the site's admin gave it; null: none yet. */
  name: z.string().nullable(),
  /** The User-Agent of its last sync request, and that in words ("Chrome 141 on Windows"). */
  userAgent: z.string().nullable(),
  browser: z.string().nullable(),
  lastUser: z.string(),
  firstSeenAt: isoInstant(),
  lastSeenAt: isoInstant(),
  lastPushAt: isoInstant().nullable(),
  /** When the device last reported its figures; null: never (only seen by its pushes). */
  reportedAt: isoInstant().nullable(),
  pendingCount: z.number().int().nullable(),
  oldestPendingAt: isoInstant().nullable(),
  appVersion: z.string().nullable(),
  madeCount: z.number().int().nullable(),
  /** How many of the records this device made the server holds. */
  serverHolds: z.number().int(),
  clockOffsetMs: z.number().int().nullable(),
  /** Records the server refused that it holds back (null: never reported), and the first of them. */
  refusedCount: z.number().int().nullable(),
  refused: z.array(refusedRecordSchema),
  /** It reported 0 pending, and as many records made as the server holds of it. */
  allDelivered: z.boolean(),
  /** Unseen for over a day with records pending. */
  flagged: z.boolean(),
  /** When the site's admin revoked it (lost or stolen): it can neither sign in nor sync; null: not revoked. */
  revokedAt: isoInstant().nullable(),
});
export type Device = z.infer<typeof deviceSchema>;
export const devicesResponseSchema = z.object({ serverTime: isoInstant(), devices: z.array(deviceSchema) });
export type DevicesResponse = z.infer<typeof devicesResponseSchema>;

/** The longest name an admin gives a device. */
export const MAX_DEVICE_NAME = 60;

/** PATCH /api/sync/devices/:deviceId (site admin): names a device of the site; an empty name removes it. */
export const deviceNameSchema = z.strictObject({
  name: z
    .string()
    .trim()
    .max(MAX_DEVICE_NAME, `A device name is at most ${MAX_DEVICE_NAME} characters`)
    // eslint-disable-next-line no-control-regex -- control characters are what must be refused
    .refine((v) => !/[\u0000-\u001f\u007f-\u009f]/.test(v), 'A device name cannot hold control characters'),
});
export const deviceNameResponseSchema = z.object({ deviceId: z.string(), name: z.string().nullable() });
export type DeviceNameResponse = z.infer<typeof deviceNameResponseSchema>;

/** The longest period one export covers. */
export const MAX_EXPORT_DAYS = 366;

/** A day (YYYY-MM-DD, midnight UTC) or an ISO date-time with its offset; years 1900-9999 (PostgreSQL's range and then some). */
const periodBound = z
  .union([z.iso.date(), z.iso.datetime({ offset: true })], { error: 'Expected a date (YYYY-MM-DD) or an ISO date-time' })
  .transform((v) => new Date(v.length === 10 ? `${v}T00:00:00.000Z` : v))
  .refine((d) => d.getUTCFullYear() >= 1900 && d.getUTCFullYear() <= 9999, 'Expected a year between 1900 and 9999');

/** GET /api/dispenses/export.csv?from=&to=: the records dispensed in [from, to). */
export const exportQuerySchema = z
  .object({ from: z.string().max(40).pipe(periodBound), to: z.string().max(40).pipe(periodBound) })
  .superRefine(({ from, to }, ctx) => {
    // zod runs this refinement even after a bound failed (then it is not a Date): those issues stand.
    if (!(from instanceof Date) || !(to instanceof Date)) return;
    if (to.getTime() <= from.getTime()) {
      ctx.addIssue({ code: 'custom', path: ['to'], message: 'to must be after from' });
    } else if (to.getTime() - from.getTime() > MAX_EXPORT_DAYS * 24 * 60 * 60_000) {
      ctx.addIssue({ code: 'custom', path: ['to'], message: `A period is at most ${MAX_EXPORT_DAYS} days` });
    }
  });

/**
 * A clock's offset in words, e.g. "3 days", "2 hours", "12 minutes": the largest unit, rounded
 * down after rounding to the minute, so a clock set 3 days ahead and measured a few milliseconds
 * short of it is "3 days", not "2 days".
 */
export function describeOffset(ms: number): string {
  const abs = Math.abs(ms) >= 60_000 ? Math.round(Math.abs(ms) / 60_000) * 60_000 : Math.abs(ms);
  const units: [number, string][] = [
    [24 * 60 * 60_000, 'day'],
    [60 * 60_000, 'hour'],
    [60_000, 'minute'],
    [1000, 'second'],
  ];
  for (const [size, name] of units) {
    const n = Math.floor(abs / size);
    if (n >= 1) return `${n} ${name}${n === 1 ? '' : 's'}`;
  }
  return `${abs} ms`;
}
