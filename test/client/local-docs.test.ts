/**
 * localDocument$ (client/data/rxdb/local-docs.ts) against RxDB's own getLocal$: the same states of
 * a local document, while record writes it ignores go by.
 */
import './local-storage';
import { firstValueFrom, filter } from 'rxjs';
import { localDocument$ } from '../../client/data/rxdb';
import { createDispenses } from '../../client/data/records';
import { inputFor, newBrowser } from './support';

test("a local document's states read from local change events are the ones RxDB's getLocal$ gives, records written meanwhile", async () => {
  const db = await newBrowser().open();
  try {
    const ours: unknown[] = [];
    const rxdbs: unknown[] = [];
    const a = localDocument$(db, 'probe').subscribe((d) => ours.push(d ? d.toJSON().data : null));
    const b = db.getLocal$<{ n: number }>('probe').subscribe((d) => rxdbs.push(d ? d.toJSON().data : null));
    await db.upsertLocal('probe', { n: 1 });
    await createDispenses(db, [inputFor(1), inputFor(2)], { username: 'u', siteId: 's' });
    await db.upsertLocal('other', { n: 9 });
    await db.upsertLocal('probe', { n: 2 });
    await firstValueFrom(localDocument$(db, 'probe').pipe(filter((d) => (d?.toJSON().data as { n: number } | undefined)?.n === 2)));
    await new Promise((r) => setTimeout(r, 50));
    a.unsubscribe();
    b.unsubscribe();
    const distinct = (xs: unknown[]) => xs.filter((x, i) => i === 0 || JSON.stringify(x) !== JSON.stringify(xs[i - 1]));
    expect(distinct(ours)).toEqual([null, { n: 1 }, { n: 2 }]);
    expect(distinct(ours)).toEqual(distinct(rxdbs));
  } finally {
    await db.remove();
  }
});
