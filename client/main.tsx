/** Browser entry: mounts the app into index.html. */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/app';
import { openLocalDatabase } from './ui/use-sync';
import './ui/styles.css';
import './ui/layout.css';
import './ui/sync-panel.css';

// The records open while React renders; a failure is shown by the workspace (useDatabase).
openLocalDatabase().catch(() => {});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
