/**
 * The device's record index for a view: null while it is read the first time, then the index and
 * a version that moves when its records change, so a view asks again. Changes in bursts (a pull
 * writing page after page) ask again at most every 100 ms.
 */
import { useEffect, useState } from 'react';
import { throttleTime } from 'rxjs';
import type { DispenseDatabase } from '../data/db';
import { deviceIndexOf } from '../data/device-index';
import type { RecordIndex } from '../data/record-index';

export interface IndexState {
  index: RecordIndex | null;
  version: number;
  error: string | null;
}

export function useDeviceIndex(db: DispenseDatabase | null): IndexState {
  const [state, setState] = useState<IndexState>({ index: null, version: 0, error: null });
  useEffect(() => {
    if (!db) return;
    let live = true;
    let stop = () => {};
    deviceIndexOf(db).then(
      ({ index, changed$ }) => {
        if (!live) return;
        setState({ index, version: 0, error: null });
        const sub = changed$
          .pipe(throttleTime(100, undefined, { leading: true, trailing: true }))
          .subscribe(() => setState((s) => ({ ...s, version: s.version + 1 })));
        stop = () => sub.unsubscribe();
      },
      (err: Error) => live && setState({ index: null, version: 0, error: `The records on this device could not be read: ${err.message}` }),
    );
    return () => {
      live = false;
      stop();
    };
  }, [db]);
  return state;
}
