/** Says so when the server has lost records this device had sent (a restored backup): nothing here shows them as delivered. */
import { useDelivery } from '../stores/delivery';

export function DeliveryWarning() {
  const lacks = useDelivery((s) => s.serverLacks);
  if (lacks === 0) return null;
  const records = `${lacks} record${lacks === 1 ? '' : 's'}`;
  return (
    <div className="banner clock-banner" role="alert" data-testid="delivery-warning">
      The server no longer holds {records} this device sent earlier (was it restored from a backup?). Keep this device&apos;s data and tell your
      site&apos;s admin.
    </div>
  );
}
