import '../../test/support/local-storage';
import { firstValueFrom } from 'rxjs';
import type { DispenseDatabase } from '../data/db';
import { publishCheckpoint, pushCheckpoint$, storedCheckpoint } from './checkpoint';

const db = { name: `progress-test-${process.pid}` } as DispenseDatabase;

test("the mirror of RxDB's checkpoint moves only forwards on notices, and follows RxDB's stored one exactly, to none too", async () => {
  expect(storedCheckpoint(db.name)).toBeNull();
  publishCheckpoint(db, { lwt: 10, id: 'b' });
  publishCheckpoint(db, { lwt: 10, id: 'a' }); // a late notice of an earlier one
  expect(storedCheckpoint(db.name)).toEqual({ lwt: 10, id: 'b' });
  publishCheckpoint(db, { lwt: 11, id: 'a' });
  expect(await firstValueFrom(pushCheckpoint$(db))).toEqual({ lwt: 11, id: 'a' });
  publishCheckpoint(db, { lwt: 5, id: 'z' }, true); // RxDB's own, as read: taken as it is
  expect(storedCheckpoint(db.name)).toEqual({ lwt: 5, id: 'z' });
  publishCheckpoint(db, null, true); // RxDB has none (its meta was lost): everything is pending again
  expect(storedCheckpoint(db.name)).toBeNull();
  expect(await firstValueFrom(pushCheckpoint$(db))).toBeNull();
});
