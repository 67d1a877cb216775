/** An RxJS operator: the latest value's work, one at a time, none dropped and none queued up. */
import { Observable } from 'rxjs';

/**
 * `work` for each value, one at a time: values that come while it runs are folded into one more
 * run with the latest, after it. Not switchMap (a steady stream of writes would cancel every count
 * and show none) and not concatMap (a count per write, queued behind one another).
 */
export function runLatest<T, R>(work: (value: T) => Promise<R>) {
  return (source: Observable<T>) =>
    new Observable<R>((subscriber) => {
      let running = false;
      let queued: { value: T } | null = null;
      let closed = false;
      const go = (value: T) => {
        running = true;
        work(value)
          .then((r) => !closed && subscriber.next(r))
          // A read that fails (the database closing under it) is skipped; the next change reads again.
          .catch(() => {})
          .finally(() => {
            running = false;
            const next = queued;
            queued = null;
            if (next && !closed) go(next.value);
          });
      };
      const sub = source.subscribe({
        next: (value) => (running ? (queued = { value }) : go(value)),
        error: (err) => subscriber.error(err),
      });
      return () => {
        closed = true;
        sub.unsubscribe();
      };
    });
}
