/** The header: the app's name (the screen's one h1), who is signed in at which site, the sync panel, and sign out. */
import type { User } from '../../schemas/api';
import { SyncPanel } from './sync-panel';

interface Props {
  user: User;
  syncNow: (() => Promise<void>) | null;
  countsKnown: boolean;
  /** "Sign out" pressed: asks what to keep (sign-out-dialog.tsx). */
  onSignOut: () => void;
  /** The server refused the session: straight back to the sign-in screen. */
  onSignInAgain: () => void;
  /** Opens a refused record's edit dialog (from the sync panel's list). */
  onCorrect?: ((externalId: string) => void) | null;
}

export function Header({ user, syncNow, countsKnown, onSignOut, onSignInAgain, onCorrect }: Props) {
  return (
    <header className="app-header">
      <div className="brand">
        <span className="brand-mark" aria-hidden="true">
          ℞
        </span>
        <h1>SEMS Dispense</h1>
        <span className="site" title="Pharmacy site">
          {user.siteId}
        </span>
      </div>
      <div className="header-right">
        <SyncPanel syncNow={syncNow} countsKnown={countsKnown} onSignInAgain={onSignInAgain} onCorrect={onCorrect} />
        <span className="who" title={user.username}>
          {user.displayName}
        </span>
        <button type="button" className="ghost sign-out" onClick={onSignOut}>
          Sign out
        </button>
      </div>
    </header>
  );
}
