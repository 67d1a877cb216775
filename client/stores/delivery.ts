/**
 * What the server's answer to this device's last report proved: how many records this device made
 * that the server no longer holds and that are not waiting to be sent (a server restored from an
 * older backup). Not persisted: each report answers it again.
 */
import { create } from 'zustand';

export interface DeliveryState {
  /** Records made here, confirmed once, that the server lacks now; 0 when all is well. */
  serverLacks: number;
}

export const useDelivery = create<DeliveryState>()(() => ({ serverLacks: 0 }));
