/**
 * The signed-in screen: the counter form beside the list of recent dispenses, with the edit and
 * void dialogs. Every write goes to the local database; the sync panel reports what left it.
 */
import { useMemo, useState } from 'react';
import { map } from 'rxjs';
import type { User } from '../../schemas/api';
import type { Dispense } from '../../schemas/dispense';
import { createDispense, editDispense, recentDispenses$, voidDispense } from '../data/records';
import { recordSyncStatesOf$, type RecordSyncState } from '../sync';
import { useSession } from '../stores/session';
import { useSyncStatus } from '../stores/sync-status';
import { DispenseForm } from './dispense-form';
import { EditDialog } from './edit-dialog';
import { inWords } from './field-words';
import { AdminView } from './admin-view';
import { ClockWarning } from './clock-warning';
import { DeliveryWarning } from './delivery-warning';
import { FindView } from './find-view';
import { Header } from './header';
import { HistoryDialog } from './history-dialog';
import { ReceivingBar } from './receiving-bar';
import { RecentList } from './recent-list';
import { SignOutDialog } from './sign-out-dialog';
import { StaffView } from './staff-view';
import { TotalsView } from './totals-view';
import { usePatientHistory } from './use-patient-history';
import { useDatabase, useSync } from './use-sync';
import { useObservable } from './use-observable';
import { ViewTabs, type View } from './view-tabs';
import { VoidDialog } from './void-dialog';

const PAGE = 50;

interface Props {
  user: User;
  /** Signs out; with `removeData`, the site's records are removed from this device afterwards. */
  onSignOut: (removeData?: boolean) => void;
}

export function Workspace({ user, onSignOut }: Props) {
  const token = useSession((s) => s.token);
  const offlineSession = useSession((s) => s.offline);
  const { db, error } = useDatabase(user.siteId);
  const sync = useSync(db, user.siteId, token);
  const { history, checkDuplicates } = usePatientHistory(db, user.siteId, token);
  const needsSignIn = useSyncStatus((s) => s.needsSignIn);
  const rejected = useSyncStatus((s) => s.rejected);
  const countsKnown = useSyncStatus((s) => s.countsKnown);
  const [limit, setLimit] = useState(PAGE);
  const [editing, setEditing] = useState<Dispense | null>(null);
  const [voiding, setVoiding] = useState<Dispense | null>(null);
  const [signingOut, setSigningOut] = useState(false);
  const [historyOf, setHistoryOf] = useState<Dispense | null>(null);
  const [view, setView] = useState<View>('counter');

  // One more than shown, to know whether there is an older page.
  const recent$ = useMemo(() => (db ? recentDispenses$(db, limit + 1) : null), [db, limit]);
  const recent = useObservable<Dispense[] | null>(recent$, null);
  const shown = (recent ?? []).slice(0, limit);
  // The sync state of the rows shown only; until it is read for exactly these rows, none is claimed.
  const shownIds = shown.map((d) => d.externalId).join(',');
  const states$ = useMemo(
    () => (db ? recordSyncStatesOf$(db, shownIds ? shownIds.split(',') : []).pipe(map((states) => ({ ids: shownIds, states }))) : null),
    [db, shownIds],
  );
  const statesOf = useObservable<{ ids: string; states: Map<string, RecordSyncState> } | null>(states$, null);
  const states = statesOf?.ids === shownIds ? statesOf.states : null;

  // A refused record, from the sync panel's list: its edit dialog, to correct it.
  const correct = db
    ? (externalId: string) =>
        void db.dispenses
          .findOne(externalId)
          .exec()
          .then((doc) => doc && setEditing(doc.toMutableJSON() as Dispense))
    : null;
  const refusal = editing ? rejected.find((r) => r.externalId === editing.externalId) : undefined;

  if (error) {
    return (
      <main className="fatal" role="alert">
        <h1>This browser cannot open the local records</h1>
        <p>{error.message}</p>
        <p>Check that the browser allows site data (IndexedDB) and has free disk space, then reload.</p>
      </main>
    );
  }

  return (
    <>
      <Header
        user={user}
        syncNow={sync ? () => sync.syncNow() : null}
        countsKnown={countsKnown}
        onSignOut={() => setSigningOut(true)}
        onSignInAgain={() => onSignOut()}
        onCorrect={correct}
      />
      <ViewTabs view={view} onChange={setView} admin={user.role === 'admin'} />
      <ClockWarning />
      <DeliveryWarning />
      {needsSignIn && !offlineSession ? (
        <div className="banner" role="alert">
          Your session has ended. Keep working: records stay on this device and are sent after you
          <button type="button" className="link" onClick={() => onSignOut()}>
            sign in again
          </button>
          .
        </div>
      ) : null}
      <ReceivingBar />
      {view === 'admin' && user.role === 'admin' ? <AdminView token={token} siteId={user.siteId} /> : null}
      {view === 'staff' && user.role === 'admin' ? <StaffView token={token} user={user} /> : null}
      {view === 'find' ? <FindView db={db} username={user.username} onEdit={setEditing} onVoid={setVoiding} onHistory={setHistoryOf} /> : null}
      {view === 'totals' ? <TotalsView db={db} token={token} admin={user.role === 'admin'} /> : null}
      <main className="workspace" hidden={view !== 'counter'}>
        {db ? (
          <DispenseForm
            save={(input, options) => createDispense(db, input, user, options)}
            username={user.username}
            history={history}
            checkDuplicates={checkDuplicates}
          />
        ) : (
          <p className="card">Opening local records…</p>
        )}
        <RecentList
          dispenses={shown}
          username={user.username}
          states={states}
          loading={recent === null}
          hasMore={(recent?.length ?? 0) > limit}
          onMore={() => setLimit((l) => l + PAGE)}
          onEdit={setEditing}
          onVoid={setVoiding}
          onHistory={setHistoryOf}
        />
      </main>
      {db && editing ? (
        <EditDialog
          record={editing}
          save={(changes, reason) => editDispense(db, editing.externalId, changes, reason)}
          onClose={() => setEditing(null)}
          refusal={refusal ? inWords(refusal.message) : undefined}
        />
      ) : null}
      {db && voiding ? (
        <VoidDialog record={voiding} save={(reason) => voidDispense(db, voiding.externalId, reason)} onClose={() => setVoiding(null)} />
      ) : null}
      {historyOf ? <HistoryDialog record={historyOf} token={token} db={db} onClose={() => setHistoryOf(null)} /> : null}
      {signingOut ? <SignOutDialog siteId={user.siteId} onSignOut={onSignOut} onClose={() => setSigningOut(false)} /> : null}
    </>
  );
}
