/** Browser entry: mounts the app into index.html. */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/app';
import { registerServiceWorker } from './ui/service-worker';
import { siteDatabaseName } from './data/site';
import { useSession } from './stores/session';
import { useSyncStatus } from './stores/sync-status';
import { countBeforeOpen } from './sync';
import { openLocalDatabase } from './ui/use-sync';
import './ui/styles.css';
import './ui/layout.css';
import './ui/sync-panel.css';

// A session kept from the last visit: its site's records open while React renders (a failure is
// shown by the workspace), and their pending count is read meanwhile (sync/pending.ts, countBeforeOpen); the live
// count replaces it.
const siteId = useSession.getState().user?.siteId;
if (siteId) {
  void countBeforeOpen(siteDatabaseName(siteId)).then((n) => {
    if (n !== null && !useSyncStatus.getState().pendingKnown) useSyncStatus.setState({ pendingCount: n, pendingKnown: true });
  });
  openLocalDatabase(siteId).catch(() => {});
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

// The app shell for offline starts and the "Update available" prompt (after the page's load event).
registerServiceWorker();
