/** The app: the sign-in screen without a session, the workspace with one. */
import { useState } from 'react';
import { useSession } from '../stores/session';
import { useSyncStatus } from '../stores/sync-status';
import { SignIn } from './sign-in';
import { Workspace } from './workspace';

export function App() {
  const user = useSession((s) => s.user);
  const token = useSession((s) => s.token);
  const signOut = useSession((s) => s.signOut);
  const [lastUsername, setLastUsername] = useState('');
  const [notice, setNotice] = useState<string | null>(null);

  if (!user || !token) return <SignIn notice={notice} lastUsername={lastUsername} />;

  const onSignOut = () => {
    const pending = useSyncStatus.getState().pendingCount;
    setLastUsername(user.username);
    setNotice(
      pending > 0
        ? `${pending} record${pending === 1 ? ' is' : 's are'} still on this device and will be sent after the next sign-in.`
        : null,
    );
    signOut();
  };
  return <Workspace key={user.username} user={user} onSignOut={onSignOut} />;
}
