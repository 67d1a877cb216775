/**
 * The reads that need the server, made from the app's views: a site's devices and export (admin),
 * one record's history (its audit trail), the site's totals. None of them works offline: each says
 * so in words.
 */
import type { z } from 'zod';
import { dispenseDetailSchema, dispenseTotalsSchema, errorBodySchema, type DispenseTotals } from '../../schemas/api';
import { deviceNameResponseSchema, devicesResponseSchema, type DeviceNameResponse, type DevicesResponse } from '../../schemas/devices';

export type DispenseDetail = z.infer<typeof dispenseDetailSchema>;

/** The server's reason: what each issue says ("to must be after from"), else its message; not "the request does not match the API". */
function reasonOf(body: unknown, status: number): string {
  const parsed = errorBodySchema.safeParse(body);
  if (!parsed.success) return `The server answered ${status}.`;
  const { message, issues } = parsed.data.error;
  return issues && issues.length > 0 ? [...new Set(issues.map((i) => i.message))].join('. ') : message;
}

async function request(token: string | null, path: string, what: string, init: { method?: string; body?: unknown } = {}): Promise<Response> {
  const offline = `${what} needs the network: this device is offline.`;
  if (!token) throw new Error(`${what} needs an online sign-in.`);
  if (typeof navigator !== 'undefined' && navigator.onLine === false) throw new Error(offline);
  let res: Response;
  try {
    res = await fetch(path, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${token}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: AbortSignal.timeout(60_000),
    });
  } catch {
    throw new Error(`${what} needs the network: the server cannot be reached.`);
  }
  if (!res.ok) throw new Error(reasonOf(await res.json().catch(() => null), res.status));
  return res;
}

async function getJson<S extends z.ZodType>(token: string | null, path: string, what: string, schema: S): Promise<z.infer<S>> {
  const res = await request(token, path, what);
  return schema.parse(await res.json());
}

export function fetchDevices(token: string | null): Promise<DevicesResponse> {
  return getJson(token, '/api/sync/devices', 'The devices view', devicesResponseSchema);
}

/** Names a device of the admin's site ('' removes the name). */
export async function renameDevice(token: string | null, deviceId: string, name: string): Promise<DeviceNameResponse> {
  const res = await request(token, `/api/sync/devices/${encodeURIComponent(deviceId)}`, 'Naming a device', { method: 'PATCH', body: { name } });
  return deviceNameResponseSchema.parse(await res.json());
}

export function fetchHistory(token: string | null, externalId: string): Promise<DispenseDetail> {
  return getJson(token, `/api/dispenses/${encodeURIComponent(externalId)}`, "The record's history", dispenseDetailSchema);
}

/**
 * Downloads the site's records dispensed in [from, to) as the server's CSV file, named by the days
 * it holds. `from` and `to` are ISO date-times with this device's offset (its local days).
 */
export async function downloadExport(token: string | null, from: string, to: string): Promise<string> {
  const query = new URLSearchParams({ from, to });
  const res = await request(token, `/api/dispenses/export.csv?${query}`, 'The export');
  const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? 'dispenses.csv';
  const url = URL.createObjectURL(await res.blob());
  try {
    const a = document.createElement('a');
    a.href = url;
    a.download = name;
    document.body.append(a);
    a.click();
    a.remove();
  } finally {
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }
  return name;
}

/** The site's totals per medication of the records dispensed in [from, to), as the server counts them. */
export function fetchTotals(token: string | null, from: Date, to: Date): Promise<DispenseTotals> {
  const query = new URLSearchParams({ from: from.toISOString(), to: to.toISOString() });
  return getJson(token, `/api/dispenses/totals?${query}`, "The site's totals", dispenseTotalsSchema);
}
