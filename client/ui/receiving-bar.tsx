/**
 * A new device's first sync: the site's records arrive in batches; a bar says how many of them
 * are on this device so far, and then that all of them are.
 */
import { useSyncStatus } from '../stores/sync-status';

export function ReceivingBar() {
  const receiving = useSyncStatus((s) => s.receiving);
  if (!receiving || receiving.total === 0) return null;
  const { sent, total } = receiving;
  const done = sent >= total;
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
