/**
 * The two patterns every admin card and sign-in form repeated: an action that is busy while it
 * runs and says its failure in words, and a read from the server that is dropped when the card
 * has gone (or asked again) before it answered.
 */
import { useEffect, useState, type DependencyList } from 'react';

type Describe = (err: unknown) => string;
const messageOf: Describe = (err) => (err as Error).message;

/**
 * `run(call, key)`: `busy` holds `key` (which row is busy, say) and `pending` is true while `call`
 * runs; a failure is put in `error` in the words `describe` gives; returns whether it succeeded.
 */
export function useAction<K = true>(describe: Describe = messageOf) {
  const [busy, setBusy] = useState<K | true | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  async function run(call: () => Promise<unknown>, key?: K): Promise<boolean> {
    setBusy(key ?? true);
    setError(null);
    setMessage(null);
    try {
      await call();
      return true;
    } catch (err) {
      setError(describe(err));
      return false;
    } finally {
      setBusy(null);
    }
  }
  return { busy, pending: busy !== null, error, setError, message, setMessage, run };
}

/**
 * What `load` answers, read again whenever `deps` change; `readAt` is when it was read ("5 minutes
 * ago" counts from it). An answer that comes after the card has gone or asked again is dropped.
 */
export function useLoaded<T>(load: () => Promise<T>, deps: DependencyList, describe: Describe = messageOf) {
  const [data, setData] = useState<T | null>(null);
  const [readAt, setReadAt] = useState(0);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    load().then(
      (d) => live && (setData(d), setReadAt(Date.now()), setError(null)),
      (err) => live && setError(describe(err)),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- the caller names what the read depends on
  }, deps);
  return { data, readAt, error, setError };
}
