/** Whether the browser says it is online, and its online/offline events (none outside a browser). */

export const browserOnline = (): boolean => typeof navigator === 'undefined' || navigator.onLine !== false;

/** Listens to the window's `online` or `offline` event; returns the unsubscribe. */
export function onNetwork(event: 'online' | 'offline', listener: () => void): () => void {
  if (typeof window === 'undefined' || typeof window.addEventListener !== 'function') return () => {};
  window.addEventListener(event, listener);
  return () => window.removeEventListener(event, listener);
}
