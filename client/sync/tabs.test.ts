import '../../test/support/local-storage';
import { filter, firstValueFrom, take, toArray } from 'rxjs';
import type { DispenseDatabase } from '../data/db';

type Page = { tabs: typeof import('./tabs'); checkpoint: typeof import('./checkpoint') };

/** A page of the browser: its own copy of the modules, as each tab has, so only the BroadcastChannel joins two. */
async function openPage(): Promise<Page> {
  let page: Page | undefined;
  await jest.isolateModulesAsync(async () => {
    page = { tabs: await import('./tabs'), checkpoint: await import('./checkpoint') };
  });
  return page!;
}

const db = { name: `tabs-test-${process.pid}`, closed: true } as DispenseDatabase;
const status = (handledRequestId: string | null) => ({
  state: 'ready' as const,
  lastSyncAt: null,
  lastResult: null,
  lastError: null,
  nextTryAt: null,
  needsSignIn: false,
  handledRequestId,
});

test("a checkpoint the leader's page keeps reaches another page on the channel, and that page's later subscribers start from it", async () => {
  const [leader, other] = [await openPage(), await openPage()];
  const seen = firstValueFrom(other.checkpoint.pushCheckpoint$(db).pipe(filter((cp) => cp?.id === 'b')));
  leader.checkpoint.publishCheckpoint(db, { lwt: 10, id: 'b' });
  expect(await seen).toEqual({ lwt: 10, id: 'b' });
  expect(await firstValueFrom(other.checkpoint.pushCheckpoint$(db))).toEqual({ lwt: 10, id: 'b' });
});

test('"Sync now" in a page while no page leads is run once, when a leader posts its status, and ends when the leader says it ran it', async () => {
  const [follower, leader] = [await openPage(), await openPage()];
  const asked = follower.tabs.requestRun(db, 30_000);
  // Elected after the request was posted: it hears it only when it posts its first status.
  const requests: string[] = [];
  const sub = leader.tabs.runRequests$(db.name).subscribe((id) => requests.push(id));
  const posted = firstValueFrom(leader.tabs.tabMessages$(db.name, 'run-request').pipe(take(2), toArray()));
  const firstRequest = firstValueFrom(leader.tabs.runRequests$(db.name));
  const publisher = leader.tabs.statusPublisher(db);
  publisher.publish(status(null));
  const id = await firstRequest;
  publisher.publish(status(null)); // a run starts: the follower posts its request again
  publisher.publish(status(id));
  await asked;
  expect((await posted).map((m) => m.id)).toEqual([id, id]);
  sub.unsubscribe();
  expect(requests).toEqual([id]); // taken once
});

test('"Sync now" in a page that is elected leader before any page ran it is run by that page', async () => {
  const page = await openPage();
  const asked = page.tabs.requestRun(db, 30_000);
  const request = firstValueFrom(page.tabs.runRequests$(db.name)); // this page leads from now on
  const publisher = page.tabs.statusPublisher(db);
  publisher.publish(status(null));
  publisher.publish(status(await request));
  await asked;
});
