/** Says in words when this device's clock is over 5 minutes off the server's (clock.ts), and what the app does about it. */
import { clockWarning, useClock } from '../data/clock';

export function ClockWarning() {
  const offsetMs = useClock((s) => s.offsetMs);
  const warning = clockWarning(offsetMs);
  if (!warning) return null;
  return (
    <div className="banner clock-banner" role="alert" data-testid="clock-warning">
      {warning}. New dispenses and edits use the server&apos;s time; set the date and time of this device right.
    </div>
  );
}
