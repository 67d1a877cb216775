/**
 * The notice shown when the page is not a secure context (plain http on a name other than
 * localhost): the app works online, but a service worker, and so offline start, needs https.
 */
import './insecure-notice.css';

export function InsecureNotice({ secure = window.isSecureContext }: { secure?: boolean }) {
  if (secure !== false) return null;
  return (
    <p className="insecure-notice" role="note" aria-label="Not served over https">
      This app is served over plain http: it works online, but offline start is unavailable until it is served over https.
    </p>
  );
}
