/**
 * The app: the sign-in screen without a session, the workspace with one. Signing out (here or in
 * another tab) stops the sync and closes the site's records in this tab; the sign-in screen then
 * says what stayed on the device, or that the site's data was removed.
 */
import { useEffect, useState } from 'react';
import { forgetSite } from '../offline/accounts';
import { removeSiteDataIfSent } from '../sync/site-removal';
import { useSession } from '../stores/session';
import { useSyncStatus } from '../stores/sync-status';
import { InsecureNotice } from './insecure-notice';
import { OfflineSession } from './offline-session';
import { SignIn } from './sign-in';
import { StaffPasswordChange } from './staff-password-change';
import { UpdatePrompt } from './update-prompt';
import { closeLocalDatabase } from './use-sync';
import { Workspace } from './workspace';

const records = (n: number) => `${n} record${n === 1 ? '' : 's'}`;

export function App() {
  const user = useSession((s) => s.user);
  const token = useSession((s) => s.token);
  const offline = useSession((s) => s.offline);
  const signOut = useSession((s) => s.signOut);
  const mustChangePassword = useSession((s) => s.mustChangePassword);
  const endedReason = useSession((s) => s.endedReason);
  const [notice, setNotice] = useState<string | null>(null);
  /** The site whose data the user asked to remove at sign-out. */
  const [removal, setRemoval] = useState<string | null>(null);

  // Signed out: the sync has stopped (the workspace's clean-up came first), then the records close.
  useEffect(() => {
    if (user) return;
    void closeLocalDatabase().then(async () => {
      if (!removal) return;
      setRemoval(null);
      const { removed, unsent } = await removeSiteDataIfSent(removal).catch((err: Error) => {
        console.error('Removing the site data failed', err);
        return { removed: false, unsent: null };
      });
      if (removed) setNotice(`The records of site ${removal} were removed from this device. The server keeps them.`);
      else if (unsent)
        setNotice(`Nothing was removed: ${records(unsent)} of site ${removal} had not reached the server yet and stay on this device.`);
      else setNotice('Nothing was removed from this device: its records could not be checked.');
    });
  }, [user, removal]);

  // An offline session (signed in against this device's verifier) works without a token.
  if (!user || (!token && !offline)) {
    return (
      <>
        <InsecureNotice />
        <UpdatePrompt />
        <SignIn notice={endedReason ?? notice} />
      </>
    );
  }

  // A password a site admin set: chosen anew before anything else (the server refuses the rest).
  if (token && mustChangePassword) return <StaffPasswordChange user={user} onSignOut={() => signOut()} />;

  const onSignOut = (removeData = false) => {
    // Not sent yet: pending, and refused by the server (sent once corrected), as the sync panel counts them.
    const { pendingCount: pending, rejected } = useSyncStatus.getState();
    const unsent = pending + rejected.length;
    const refused = rejected.length > 0 ? ` (${rejected.length} refused by the server, to be corrected first)` : '';
    setNotice(
      unsent > 0
        ? `${records(unsent)} ${unsent === 1 ? 'is' : 'are'} still on this device${refused} and will be sent after the next sign-in of a user of site ${user.siteId}.`
        : null,
    );
    if (removeData) {
      setRemoval(user.siteId);
      forgetSite(user.siteId); // a shared or borrowed machine: no offline sign-in to this site either
    }
    signOut();
  };
  return (
    <>
      <InsecureNotice />
      <UpdatePrompt />
      <OfflineSession />
      <Workspace key={user.username} user={user} onSignOut={onSignOut} />
    </>
  );
}
