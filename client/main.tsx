/** Browser entry: mounts the app into index.html. */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/app';
import { DATABASE_NAME } from './db';
import { useSyncStatus } from './stores/sync-status';
import { countBeforeOpen } from './sync/progress';
import { openLocalDatabase } from './ui/use-sync';
import './ui/styles.css';
import './ui/layout.css';
import './ui/sync-panel.css';

// The pending count is read while RxDB opens the database (progress.ts); the live count replaces it.
void countBeforeOpen(DATABASE_NAME).then((n) => {
  if (n !== null && !useSyncStatus.getState().pendingKnown) useSyncStatus.setState({ pendingCount: n, pendingKnown: true });
});
// The records open while React renders; a failure is shown by the workspace (useDatabase).
openLocalDatabase().catch(() => {});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
