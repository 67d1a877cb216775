/**
 * This device's clock against the server's. The offset (device minus server) is measured at each
 * sign-in from the answer's Date header and at each sync from the device report's serverTime,
 * and kept in localStorage (`sems_clock`) so a reload with no network still corrects. Beyond a
 * minute it corrects the instants this device stamps (correctedNow); beyond CLOCK_WARN_MS the
 * app says so in words. Pharmacy PCs and tablets with wrong clocks are common, and a fast clock
 * would date dispenses in the future and win every conflict.
 */
import { create } from 'zustand';
import { createJSONStorage, persist } from 'zustand/middleware';
import { CLOCK_WARN_MS, describeOffset } from '../../schemas/devices';

/** Below this the measurement's own error (a Date header has whole seconds) is larger than the offset. */
const CORRECT_ABOVE_MS = 60_000;

export interface ClockState {
  /** This device's clock minus the server's (ms); null until measured. */
  offsetMs: number | null;
  measuredAt: string | null;
  note: (offsetMs: number) => void;
}

export const useClock = create<ClockState>()(
  persist(
    (set) => ({
      offsetMs: null,
      measuredAt: null,
      note: (offsetMs) => set({ offsetMs: Math.round(offsetMs), measuredAt: new Date().toISOString() }),
    }),
    {
      name: 'sems_clock',
      storage: createJSONStorage(() => localStorage),
      partialize: ({ offsetMs, measuredAt }) => ({ offsetMs, measuredAt }),
    },
  ),
);

/** The offset measured from a server instant read between `sentAt` and `receivedAt` (device clock, ms). */
export function offsetFrom(serverMs: number, sentAt: number, receivedAt: number): number {
  return (sentAt + receivedAt) / 2 - serverMs;
}

/** Notes the offset from an answer's Date header (whole seconds: its middle is taken). */
export function noteServerDate(header: string | null, sentAt: number, receivedAt: number): void {
  const at = header ? Date.parse(header) : Number.NaN;
  if (!Number.isNaN(at)) useClock.getState().note(offsetFrom(at + 500, sentAt, receivedAt));
}

/** The correction applied to this device's clock: the offset when it is over a minute, else 0. */
export function correctionMs(offsetMs = useClock.getState().offsetMs): number {
  return offsetMs !== null && Math.abs(offsetMs) > CORRECT_ABOVE_MS ? offsetMs : 0;
}

/** Now, in the server's time as far as it was measured. */
export function correctedNow(): number {
  return Date.now() - correctionMs();
}

/** "this device's clock is 3 days fast", or null within CLOCK_WARN_MS. */
export function clockWarning(offsetMs: number | null): string | null {
  if (offsetMs === null || Math.abs(offsetMs) <= CLOCK_WARN_MS) return null;
  return `This device's clock is ${describeOffset(offsetMs)} ${offsetMs > 0 ? 'fast' : 'slow'}`;
}
