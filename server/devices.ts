/**
 * Devices and proof of delivery: one row per device of a site. The server notes what it sees
 * (who pushed from it and when, in the push's closing statement in push-sql.ts; its clock) and
 * keeps what the device reports after each sync run; a site admin reads each device beside how
 * many of its records the server holds, counted from the audit trail's creates (a record's first push names its device).
 */
import type { Request } from 'express';
import type { Knex } from 'knex';
import {
  DEVICE_ID,
  refusedRecordSchema,
  STALE_DEVICE_MS,
  type Device,
  type DeviceNameResponse,
  type DeviceReport,
  type DeviceReportResponse,
  type DevicesResponse,
  type RefusedRecord,
} from '../schemas/devices';
import type { MissingResponse } from '../schemas/api';
import { logAdminAction, type Actor } from './admin-log';
import { AppError } from './errors';
import { iso } from './records';
import { endDeviceSessions } from './sessions';
import { describeUserAgent } from './user-agent';
import { offlineAccessOf } from './users';

/** The X-Device-Id header when it is a device id the server accepts, else null. */
export function deviceIdOf(req: Request): string | null {
  const id = req.header('x-device-id');
  return id && DEVICE_ID.test(id) ? id : null;
}

/** True when the site's admin revoked this device (a lost or stolen one). */
export async function isDeviceRevoked(db: Knex, siteId: string, deviceId: string): Promise<boolean> {
  const row = await db('devices').select('revoked_at').where({ site_id: siteId, device_id: deviceId }).first();
  return Boolean(row?.revoked_at);
}

/**
 * A lost device: every session on it ends, and sign-in, push and pull naming it answer 403
 * device_revoked (server/auth.ts) until it is restored. Its row, with the unsent records it last
 * reported, stays in the site's list. Restoring lets it sign in again; its ended sessions stay ended.
 */
export async function setDeviceRevoked(db: Knex, actor: Actor, deviceId: string, revoked: boolean): Promise<void> {
  await db.transaction(async (trx) => {
    const changes = revoked ? { revoked_at: trx.fn.now(), revoked_by: actor.username } : { revoked_at: null, revoked_by: null };
    const n = await trx('devices').where({ site_id: actor.siteId, device_id: deviceId }).update(changes);
    if (n === 0) throw new AppError(404, 'not_found', 'No such device at your site');
    const sessions = revoked ? await endDeviceSessions(trx, actor.siteId, deviceId) : 0;
    await logAdminAction(trx, actor, {
      action: revoked ? 'device.revoke' : 'device.restore',
      target: deviceId,
      details: revoked ? { sessionsEnded: sessions } : {},
    });
  });
}

interface Seen {
  siteId: string;
  deviceId: string;
  username: string;
  /** The request's User-Agent header, if it sent one. */
  userAgent?: string | null;
}

/** A User-Agent as stored: the column holds 512 characters (a real browser's header is about 130-200). */
export const storedUserAgent = (userAgent: string | null | undefined): string | null => userAgent?.slice(0, 512) || null;
const userAgentOf = (seen: Seen) => storedUserAgent(seen.userAgent);

// The records a device made that the server holds: the creates its pushes wrote, one per record.
const HOLDS_SQL = (device: string, site: string) => `(SELECT count(*)::int FROM audit_logs a JOIN dispenses d ON d.external_id = a.entity_id
  WHERE a.action = 'create' AND a.entity = 'dispense' AND a.device_id = ${device} AND d.site_id = ${site})`;

/** Keeps a device's report; returns the server's time, the device's clock offset measured from it, and how many of its records the server holds. */
export async function reportDevice(db: Knex, seen: Seen, report: DeviceReport): Promise<DeviceReportResponse> {
  const serverNow = Date.now();
  const clockOffsetMs = Date.parse(report.deviceTime) - serverNow;
  const row = {
    site_id: seen.siteId,
    device_id: seen.deviceId,
    last_user: seen.username,
    last_seen_at: db.fn.now(),
    reported_at: db.fn.now(),
    pending_count: report.pendingCount,
    oldest_pending_at: report.oldestPendingAt,
    app_version: report.appVersion,
    made_count: report.madeCount,
    clock_offset_ms: clockOffsetMs,
    ...(userAgentOf(seen) ? { user_agent: userAgentOf(seen) } : {}),
    // An older app reports no refused records: what it last said of them is unknown, not none.
    refused_count: report.refusedCount ?? null,
    refused: report.refused ? JSON.stringify(report.refused) : null,
  };
  const { site_id: _s, device_id: _d, ...changes } = row;
  await db('devices').insert(row).onConflict(['site_id', 'device_id']).merge(changes);
  const { rows } = (await db.raw(`SELECT ${HOLDS_SQL('?', '?')} AS n`, [seen.deviceId, seen.siteId])) as { rows: { n: number }[] };
  const offlineAccess = await offlineAccessOf(db, seen.siteId);
  return { serverTime: new Date(serverNow).toISOString(), clockOffsetMs, serverHolds: rows[0].n, offlineAccess };
}

// Of the ids asked about, those the site does not hold. An id another site holds is answered
// exactly like one nobody holds: the answer says nothing of other sites.
const MISSING_SQL = `SELECT u.id::text AS id FROM unnest(?::uuid[]) AS u(id)
  WHERE NOT EXISTS (SELECT 1 FROM dispenses d WHERE d.external_id = u.id AND d.site_id = ?)`;

/**
 * After a restore from an older backup the server lacks records a device had sent and seen
 * confirmed: the device asks with the ids of the records it made and sends again those missing.
 */
export async function missingOfSite(db: Knex, siteId: string, externalIds: string[]): Promise<MissingResponse> {
  const { rows } = (await db.raw(MISSING_SQL, [[...new Set(externalIds)], siteId])) as { rows: { id: string }[] };
  return { missing: rows.map((r) => r.id) };
}

interface DeviceRow {
  device_id: string;
  last_user: string;
  first_seen_at: Date;
  last_seen_at: Date;
  last_push_at: Date | null;
  reported_at: Date | null;
  pending_count: number | null;
  oldest_pending_at: Date | null;
  app_version: string | null;
  made_count: number | null;
  clock_offset_ms: string | number | null;
  revoked_at: Date | null;
  server_holds: number;
  server_time: Date;
  name: string | null;
  user_agent: string | null;
  refused_count: number | null;
  refused: unknown;
}

/** The refused records a device reported, as stored (jsonb); anything that does not parse is left out. */
function refusedOf(stored: unknown): RefusedRecord[] {
  if (!Array.isArray(stored)) return [];
  return stored.flatMap((r) => {
    const parsed = refusedRecordSchema.safeParse(r);
    return parsed.success ? [parsed.data] : [];
  });
}

const isoOrNull = (v: unknown) => (v === null || v === undefined ? null : iso(v));

/** Problems first (flagged, then not delivered), each group by when the device was last seen, newest first. */
function rank(d: Device): number {
  return d.flagged ? 0 : d.allDelivered ? 2 : 1;
}

/** The site's devices with what they reported and how many of their records the server holds. */
export async function listDevices(db: Knex, siteId: string): Promise<DevicesResponse> {
  const { rows } = (await db.raw(
    `SELECT v.*, now() AS server_time, ${HOLDS_SQL('v.device_id', 'v.site_id')} AS server_holds
     FROM devices v WHERE v.site_id = ?`,
    [siteId],
  )) as { rows: DeviceRow[] };
  const serverTime = rows[0]?.server_time ?? new Date();
  const devices = rows.map((r): Device => {
    const pending = r.pending_count;
    const lastSeen = iso(r.last_seen_at);
    return {
      deviceId: r.device_id,
      name: r.name,
      userAgent: r.user_agent,
      browser: describeUserAgent(r.user_agent),
      lastUser: r.last_user,
      firstSeenAt: iso(r.first_seen_at),
      lastSeenAt: lastSeen,
      lastPushAt: isoOrNull(r.last_push_at),
      reportedAt: isoOrNull(r.reported_at),
      pendingCount: pending,
      oldestPendingAt: isoOrNull(r.oldest_pending_at),
      appVersion: r.app_version,
      madeCount: r.made_count,
      serverHolds: r.server_holds,
      clockOffsetMs: r.clock_offset_ms === null ? null : Number(r.clock_offset_ms),
      refusedCount: r.refused_count,
      refused: refusedOf(r.refused),
      allDelivered: pending === 0 && r.made_count !== null && r.made_count === r.server_holds,
      flagged: (pending ?? 0) > 0 && serverTime.getTime() - Date.parse(lastSeen) > STALE_DEVICE_MS,
      revokedAt: isoOrNull(r.revoked_at),
    };
  });
  devices.sort((a, b) => rank(a) - rank(b) || b.lastSeenAt.localeCompare(a.lastSeenAt));
  return { serverTime: iso(serverTime), devices };
}

/** Names a device of the admin's site ('' removes the name). Another site's device, or none, is 404. */
export async function nameDevice(db: Knex, siteId: string, deviceId: string, name: string): Promise<DeviceNameResponse> {
  const rows = (await db('devices')
    .where({ site_id: siteId, device_id: deviceId })
    .update({ name: name === '' ? null : name })
    .returning(['device_id', 'name'])) as { device_id: string; name: string | null }[];
  if (rows.length === 0) throw new AppError(404, 'not_found', 'No such device at your site');
  return { deviceId: rows[0].device_id, name: rows[0].name };
}
