/** What the devices view says of one device: a status in words and its tone, from the server's figures. */
import { describeOffset, CLOCK_WARN_MS, type Device } from '../../schemas/devices';
import { formatDuration } from './format';

export type Tone = 'ok' | 'pending' | 'bad';

const records = (n: number) => `${n} record${n === 1 ? '' : 's'}`;

export function deviceStatus(d: Device, serverNowMs: number): { text: string; tone: Tone } {
  const unseen = formatDuration(serverNowMs - Date.parse(d.lastSeenAt));
  if (d.flagged) return { text: `Unseen for ${unseen} with ${records(d.pendingCount ?? 0)} pending`, tone: 'bad' };
  if (d.allDelivered) return { text: 'All delivered', tone: 'ok' };
  if (d.pendingCount === null || d.madeCount === null) return { text: 'No report yet', tone: 'pending' };
  // What it holds back: records waiting to be sent, and records the server refused (listed under the device).
  const refused = d.refusedCount ?? 0;
  const held = [d.pendingCount > 0 ? `${records(d.pendingCount)} pending` : null, refused > 0 ? `${records(refused)} refused by the server` : null];
  if (held.some(Boolean)) return { text: held.filter(Boolean).join(' · '), tone: refused > 0 ? 'bad' : 'pending' };
  if (d.madeCount > d.serverHolds) return { text: `Server lacks ${records(d.madeCount - d.serverHolds)} it made`, tone: 'bad' };
  return { text: `Server holds ${records(d.serverHolds)}, device reports ${d.madeCount} made`, tone: 'pending' };
}

/** "3 days fast", "2 minutes slow", "right" (within a minute), or "not measured". */
export function clockText(offsetMs: number | null): { text: string; warn: boolean } {
  if (offsetMs === null) return { text: 'not measured', warn: false };
  if (Math.abs(offsetMs) < 60_000) return { text: 'right', warn: false };
  return { text: `${describeOffset(offsetMs)} ${offsetMs > 0 ? 'fast' : 'slow'}`, warn: Math.abs(offsetMs) > CLOCK_WARN_MS };
}
