/**
 * The site admin's staff routes from the app's Staff tab: the site's users, their changes, live
 * sessions and the admin log. Each needs the network and says so in words; a refusal carries the
 * server's code, so the view can tell a session ended for good from a refused change.
 */
import type { z } from 'zod';
import { errorBodySchema } from '../../schemas/api';
import {
  adminLogPageSchema,
  sessionsResponseSchema,
  staffListSchema,
  staffMemberResponseSchema,
  type AdminLogPage,
  type NewStaffMember,
  type Session,
  type StaffChange,
  type StaffMember,
} from '../../schemas/staff';

/** A refused request: `code` is the server's (weak_password, last_admin, token_revoked...), or null when it was not reached. */
export class StaffApiError extends Error {
  constructor(
    readonly code: string | null,
    message: string,
    /** The token the server refused, if it was asked. */
    readonly token: string | null = null,
  ) {
    super(message);
  }
}

async function send(token: string | null, method: string, path: string, body?: unknown): Promise<Response> {
  if (!token) throw new StaffApiError(null, 'Managing staff needs an online sign-in.');
  if (typeof navigator !== 'undefined' && navigator.onLine === false)
    throw new StaffApiError(null, 'Managing staff needs the network: this device is offline.');
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
  } catch {
    throw new StaffApiError(null, 'Managing staff needs the network: the server cannot be reached.');
  }
  if (!res.ok) {
    const parsed = errorBodySchema.safeParse(await res.json().catch(() => null));
    if (parsed.success) throw new StaffApiError(parsed.data.error.code, parsed.data.error.message, token);
    throw new StaffApiError(null, `The server answered ${res.status}.`);
  }
  return res;
}

async function json<S extends z.ZodType>(token: string | null, method: string, path: string, schema: S, body?: unknown): Promise<z.infer<S>> {
  return schema.parse(await (await send(token, method, path, body)).json());
}

const userPath = (username: string) => `/api/users/${encodeURIComponent(username)}`;

export async function fetchStaff(token: string | null): Promise<StaffMember[]> {
  return (await json(token, 'GET', '/api/users', staffListSchema)).users;
}

export async function addStaff(token: string | null, body: NewStaffMember): Promise<StaffMember> {
  return (await json(token, 'POST', '/api/users', staffMemberResponseSchema, body)).user;
}

export async function changeStaff(token: string | null, username: string, change: StaffChange): Promise<StaffMember> {
  return (await json(token, 'PATCH', userPath(username), staffMemberResponseSchema, change)).user;
}

export async function resetStaffPassword(token: string | null, username: string, password: string): Promise<void> {
  await send(token, 'POST', `${userPath(username)}/password`, { password });
}

export async function fetchSessions(token: string | null): Promise<Session[]> {
  return (await json(token, 'GET', '/api/sessions', sessionsResponseSchema)).sessions;
}

export async function endSession(token: string | null, id: string): Promise<void> {
  await send(token, 'DELETE', `/api/sessions/${encodeURIComponent(id)}`);
}

export async function fetchAdminLog(token: string | null, cursor: string | null, limit = 20): Promise<AdminLogPage> {
  const query = new URLSearchParams({ limit: String(limit), ...(cursor ? { cursor } : {}) });
  return json(token, 'GET', `/api/admin-log?${query}`, adminLogPageSchema);
}

/** A lost device: revoked, its sessions end and it can neither sign in nor sync; restored, it can again. */
export async function setDeviceRevoked(token: string | null, deviceId: string, revoked: boolean): Promise<void> {
  await send(token, 'POST', `/api/sync/devices/${encodeURIComponent(deviceId)}/${revoked ? 'revoke' : 'restore'}`);
}
