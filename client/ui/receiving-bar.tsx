/**
 * A new device's first sync: the site's records arrive in batches; a bar says how many of them
 * are on this device so far, and then, for a few seconds, that all of them are. It then goes:
 * records made or received afterwards would make its count untrue.
 */
import { useEffect, useState } from 'react';
import { useSyncStatus } from '../stores/sync-status';

/** How long "All N records … are on this device" stays once the last batch is in. */
export const DONE_SHOWN_MS = 8_000;

export function ReceivingBar() {
  const receiving = useSyncStatus((s) => s.receiving);
  const done = !!receiving && receiving.total > 0 && receiving.sent >= receiving.total;
  // The progress whose "all on this device" has been shown long enough.
  const [expired, setExpired] = useState<typeof receiving>(null);
  useEffect(() => {
    if (!done) return;
    const timer = setTimeout(() => setExpired(receiving), DONE_SHOWN_MS);
    return () => clearTimeout(timer);
  }, [done, receiving]);
  if (!receiving || receiving.total === 0 || (done && expired === receiving)) return null;
  const { sent, total } = receiving;
  const label = done
    ? total === 1
      ? "The site's one record of the last weeks is on this device."
      : `All ${total.toLocaleString()} records of the site's last weeks are on this device.`
    : `Receiving the site's records: ${sent.toLocaleString()} of ${total.toLocaleString()}`;
  return (
    <div className="receiving" role="status">
      <span id="receiving-label">{label}</span>
      <progress aria-labelledby="receiving-label" value={sent} max={total} />
    </div>
  );
}
