/** Dates and durations as the counter reads them: local clock times and plain "5 minutes ago". */
import { formatDuration } from '../data/duration';

export { formatDuration };

const time = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dateTime = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
const dateTimeYear = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });

/** "14:05" today, "3 Dec, 14:05" on another day of this year, "3 Dec 2025, 14:05" in another year (a 1990 typo must not pass for this year). */
export function formatWhen(iso: string, now = Date.now()): string {
  const d = new Date(iso);
  const today = new Date(now);
  if (today.toDateString() === d.toDateString()) return time.format(d);
  return today.getFullYear() === d.getFullYear() ? dateTime.format(d) : dateTimeYear.format(d);
}

export const ago = (iso: string, now = Date.now()) => `${formatDuration(now - new Date(iso).getTime())} ago`;

/** "in 25 seconds", or "now" when the moment has come. */
export function fromNow(iso: string, now = Date.now()): string {
  const ms = new Date(iso).getTime() - now;
  return ms <= 1000 ? 'now' : `in ${formatDuration(ms)}`;
}
