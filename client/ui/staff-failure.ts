/** The words of a failed staff call; a session the server ended for good signs this tab out with the reason. */
import { StaffApiError } from '../data/staff-api';
import { SESSION_ENDED_CODES, useSession } from '../stores/session';

export function staffFailure(err: unknown): string {
  if (err instanceof StaffApiError && err.code && err.token && SESSION_ENDED_CODES.has(err.code)) {
    useSession.getState().endedByServer(err.code, err.message, err.token);
  }
  return (err as Error).message;
}
