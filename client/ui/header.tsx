/** The header: who is signed in at which site, the sync panel, and sign out. */
import type { User } from '../../schemas/api';
import { SyncPanel } from './sync-panel';

interface Props {
  user: User;
  syncNow: (() => Promise<void>) | null;
  countsKnown: boolean;
  onSignOut: () => void;
}

export function Header({ user, syncNow, countsKnown, onSignOut }: Props) {
  return (
    <header className="app-header">
      <div className="brand">
        <span className="brand-mark" aria-hidden="true">℞</span>
        <span>SEMS Dispense</span>
        <span className="site" title="Pharmacy site">{user.siteId}</span>
      </div>
      <div className="header-right">
        <SyncPanel syncNow={syncNow} countsKnown={countsKnown} onSignInAgain={onSignOut} />
        <span className="who" title={user.username}>{user.displayName}</span>
        <button type="button" className="ghost" onClick={onSignOut}>Sign out</button>
      </div>
    </header>
  );
}
