/** React state that follows an RxJS observable (RxDB queries), resubscribing when it changes. */
import { useEffect, useLayoutEffect, useState } from 'react';
import type { Observable } from 'rxjs';

export function useObservable<T>(source: Observable<T> | null, initial: T): T {
  const [value, setValue] = useState<T>(initial);
  // Subscribed as React commits, not after the next paint: the list's query starts sooner.
  useLayoutEffect(() => {
    if (!source) return;
    const sub = source.subscribe({ next: setValue, error: (err) => console.error(err) });
    return () => sub.unsubscribe();
  }, [source]);
  return value;
}

/** The current time, refreshed every `everyMs`, for "3 minutes ago" labels that stay true. */
export function useNow(everyMs = 15_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(id);
  }, [everyMs]);
  return now;
}
