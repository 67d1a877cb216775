/**
 * When a user may sign in on this device with no network: the rules alone, with the clock passed
 * in, so each is tested without a browser. The verifier itself is checked in accounts.ts.
 * Wrong passwords count like the server's sign-in limit (5 failures, then 15 minutes locked).
 */
import type { User } from '../../schemas/api';
import { formatDuration } from '../data/duration';
import type { Verifier } from './verifier';

export const MAX_OFFLINE_FAILURES = 5;
export const OFFLINE_LOCKOUT_MS = 15 * 60_000;
/** A clock this far behind the last online sign-in is not believed (it would stretch the limit). */
export const CLOCK_SLACK_MS = 5 * 60_000;

/** What this device keeps of a user after an online sign-in. */
export interface OfflineAccount {
  user: User;
  verifier: Verifier;
  /** The last online sign-in here, by this device's clock (ms). */
  lastOnlineAt: number;
  /** The server's limit, sent at that sign-in. */
  offlineSignInSeconds: number;
  /** "Remember me on this device": kept at sign-out. */
  remember: boolean;
  /** Wrong passwords offline since the last success or lockout. */
  failures: number;
  lockedUntil: number | null;
  /**
   * The user's access stamp at that sign-in (the server's offlineAccess): when the server names
   * another, or no longer names the user, the account is dropped. Absent: kept by an earlier version.
   */
  accessStamp?: string;
}

export type RefusalCode = 'unknown' | 'disabled' | 'expired' | 'clock' | 'locked' | 'wrong_password';

export interface Refusal {
  code: RefusalCode;
  message: string;
}

const day = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });

/** Why `account` may not try a password now, or null if it may. */
export function refusalBeforeCheck(account: OfflineAccount | undefined, username: string, now: number): Refusal | null {
  if (!account) {
    return {
      code: 'unknown',
      message: `"${username}" has not signed in online on this device (or signed out without "Remember me on this device"), so cannot sign in without the network. Sign in once while connected.`,
    };
  }
  if (account.lockedUntil !== null && now < account.lockedUntil) {
    return {
      code: 'locked',
      message: `Too many wrong passwords on this device. Try again in ${formatDuration(account.lockedUntil - now + 59_999)}, or once the network is back.`,
    };
  }
  if (account.offlineSignInSeconds === 0) {
    return { code: 'disabled', message: 'This server does not allow signing in without the network. Sign in once the network is back.' };
  }
  if (now < account.lastOnlineAt - CLOCK_SLACK_MS) {
    return { code: 'clock', message: "This device's clock is earlier than your last online sign-in here: check its date and time." };
  }
  if (now > account.lastOnlineAt + account.offlineSignInSeconds * 1000) {
    return {
      code: 'expired',
      message: `Signing in without the network is allowed for ${formatDuration(account.offlineSignInSeconds * 1000)} after the last online sign-in on this device (${day.format(account.lastOnlineAt)}). Sign in once the network is back.`,
    };
  }
  return null;
}

/** The account after a wrong password: counted, and locked at the limit. */
export function afterWrongPassword(account: OfflineAccount, now: number): { account: OfflineAccount; refusal: Refusal } {
  const expired = account.lockedUntil !== null && now >= account.lockedUntil;
  const failures = (expired ? 0 : account.failures) + 1;
  if (failures >= MAX_OFFLINE_FAILURES) {
    return {
      account: { ...account, failures: 0, lockedUntil: now + OFFLINE_LOCKOUT_MS },
      refusal: {
        code: 'locked',
        message: `Wrong password. Too many wrong passwords on this device: try again in ${formatDuration(OFFLINE_LOCKOUT_MS)}, or once the network is back.`,
      },
    };
  }
  const left = MAX_OFFLINE_FAILURES - failures;
  return {
    account: { ...account, failures, lockedUntil: null },
    refusal: {
      code: 'wrong_password',
      message: `Wrong password. ${left} more ${left === 1 ? 'try' : 'tries'} before sign-in on this device is locked for a while.`,
    },
  };
}

export function afterSuccess(account: OfflineAccount): OfflineAccount {
  return { ...account, failures: 0, lockedUntil: null };
}
