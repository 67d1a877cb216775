import { backoffDelay, createScheduler, type RunOutcome, type Scheduler, type SchedulerOptions } from './scheduler';

// Only the timers are fake; promises, Date and the rest stay real (faking them hangs RxDB and
// await chains). Time moves with advanceTimersByTimeAsync, which also settles awaited runs.
beforeEach(() => {
  jest.useFakeTimers({
    doNotFake: [
      'Date',
      'hrtime',
      'nextTick',
      'performance',
      'queueMicrotask',
      'requestAnimationFrame',
      'cancelAnimationFrame',
      'requestIdleCallback',
      'cancelIdleCallback',
      'setImmediate',
      'clearImmediate',
    ],
  });
});
afterEach(() => {
  jest.useRealTimers();
});

interface Harness {
  scheduler: Scheduler;
  runs: () => number;
  /** Outcomes the next runs return, in order; afterwards 'ok'. */
  outcomes: RunOutcome[];
  online: { value: boolean; fire: () => void };
  events: string[];
}

function harness(opts: Partial<SchedulerOptions> & { hold?: Promise<void> } = {}): Harness {
  let count = 0;
  const outcomes: RunOutcome[] = [];
  const listeners = new Set<() => void>();
  const online = { value: true, fire: () => listeners.forEach((l) => l()) };
  const events: string[] = [];
  const scheduler = createScheduler({
    enabled: true,
    intervalSeconds: 30,
    run: async () => {
      count += 1;
      await opts.hold;
      return outcomes.shift() ?? { kind: 'ok' };
    },
    isOnline: () => online.value,
    onOnline: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    random: () => 1, // jitter at its top: the delays below are exact
    now: () => jest.now(),
    onEvent: (e) => events.push(e.type),
    ...opts,
  });
  return { scheduler, runs: () => count, outcomes, online, events };
}

const advance = (ms: number) => jest.advanceTimersByTimeAsync(ms);

test('when auto sync is on, the timer runs a sync once per interval and not before', async () => {
  const h = harness({ intervalSeconds: 60 });
  await advance(59_999);
  expect(h.runs()).toBe(0);
  await advance(1);
  expect(h.runs()).toBe(1);
  await advance(60_000);
  expect(h.runs()).toBe(2);
  await h.scheduler.dispose();
});

test('when the interval changes, the timer restarts at once with the new interval', async () => {
  const h = harness({ intervalSeconds: 300 });
  await advance(200_000);
  h.scheduler.setIntervalSeconds(30);
  await advance(29_999);
  expect(h.runs()).toBe(0);
  await advance(1);
  expect(h.runs()).toBe(1);
  // The old 300 s tick (due 100 s after the change) never comes.
  await advance(100_000);
  expect(h.runs()).toBe(1 + 3);
  expect(h.scheduler.snapshot().intervalMs).toBe(30_000);
  await h.scheduler.dispose();
});

test('when auto sync is paused, the timer stops and no sync runs', async () => {
  const h = harness();
  await advance(30_000);
  expect(h.runs()).toBe(1);
  h.scheduler.pause();
  await advance(10 * 60_000);
  expect(h.runs()).toBe(1);
  expect(h.scheduler.snapshot()).toMatchObject({ enabled: false, nextRunAt: null });
  h.scheduler.start();
  await advance(30_000);
  expect(h.runs()).toBe(2);
  await h.scheduler.dispose();
});

test('when paused, "Sync now" still runs a sync, and the timer stays off', async () => {
  const h = harness({ enabled: false });
  await h.scheduler.syncNow();
  expect(h.runs()).toBe(1);
  await advance(10 * 60_000);
  expect(h.runs()).toBe(1);
  await h.scheduler.dispose();
});

test('when a tick or "Sync now" comes during a run, no second run starts; "Sync now" shares the run', async () => {
  let release!: () => void;
  const hold = new Promise<void>((r) => (release = r));
  const h = harness({ hold });
  await advance(30_000);
  expect(h.runs()).toBe(1);
  expect(h.scheduler.snapshot().running).toBe(true);
  await advance(90_000); // three more ticks during the run
  const a = h.scheduler.syncNow();
  const b = h.scheduler.syncNow();
  expect(a).toBe(b);
  expect(h.runs()).toBe(1);
  release();
  await a;
  expect(h.scheduler.snapshot().running).toBe(false);
  await advance(30_000);
  expect(h.runs()).toBe(2);
  await h.scheduler.dispose();
});

test('when the server fails, retries back off 5 s, 10 s, 20 s, and a success resets the backoff', async () => {
  const h = harness({ intervalSeconds: 3600 });
  h.outcomes.push(...Array.from({ length: 3 }, () => ({ kind: 'retry', reason: 'server' }) as RunOutcome));
  await h.scheduler.syncNow(); // fails: 1
  expect(h.scheduler.snapshot()).toMatchObject({ failures: 1, nextRunAt: jest.now() + 5_000 });
  await advance(4_999);
  expect(h.runs()).toBe(1);
  await advance(1); // fails: 2
  expect(h.runs()).toBe(2);
  await advance(9_999);
  expect(h.runs()).toBe(2);
  await advance(1); // fails: 3
  expect(h.runs()).toBe(3);
  await advance(19_999);
  expect(h.runs()).toBe(3);
  await advance(1); // succeeds
  expect(h.runs()).toBe(4);
  expect(h.scheduler.snapshot().failures).toBe(0);
  h.outcomes.push({ kind: 'retry', reason: 'network' });
  await h.scheduler.syncNow(); // fails again: back to the first delay
  expect(h.scheduler.snapshot().nextRunAt).toBe(jest.now() + 5_000);
  await h.scheduler.dispose();
});

test('backoff is capped and jittered between half and all of its delay', () => {
  expect(backoffDelay(1, 5_000, 600_000, () => 0)).toBe(2_500);
  expect(backoffDelay(3, 5_000, 600_000, () => 1)).toBe(20_000);
  expect(backoffDelay(30, 5_000, 600_000, () => 1)).toBe(600_000);
  expect(backoffDelay(30, 5_000, 600_000, () => 0)).toBe(300_000);
});

test('when the server answers 429 with Retry-After, nothing is sent before that time, not even by ticks or "Sync now"', async () => {
  const h = harness({ intervalSeconds: 30 });
  h.outcomes.push({ kind: 'rate-limited', retryAfterMs: 75_000 });
  await h.scheduler.syncNow();
  expect(h.scheduler.snapshot().nextRunAt).toBe(jest.now() + 75_000);
  await advance(60_000); // two ticks skipped
  await h.scheduler.syncNow(); // deferred, not sent
  h.online.fire(); // coming online does not cut the wait short either
  expect(h.runs()).toBe(1);
  await advance(14_999);
  expect(h.runs()).toBe(1);
  await advance(1);
  expect(h.runs()).toBe(2);
  await h.scheduler.dispose();
});

test('when offline, ticks are skipped and the `online` event runs the sync that was due', async () => {
  const h = harness();
  h.online.value = false;
  await advance(90_000);
  expect(h.runs()).toBe(0);
  expect(h.events).toContain('skipped-offline');
  h.online.value = true;
  h.online.fire();
  await advance(0);
  expect(h.runs()).toBe(1);
  // Back online with nothing due: the event alone does not send.
  h.online.fire();
  await advance(0);
  expect(h.runs()).toBe(1);
  await h.scheduler.dispose();
});

test('when "Sync now" is pressed offline, it runs as soon as the browser is online', async () => {
  const h = harness({ enabled: false });
  h.online.value = false;
  await h.scheduler.syncNow();
  expect(h.runs()).toBe(0);
  h.online.value = true;
  h.online.fire();
  await advance(0);
  expect(h.runs()).toBe(1);
  await h.scheduler.dispose();
});

test('when the server answers 401, the scheduler stops until the session changes', async () => {
  let token = 'expired';
  const h = harness({ canRetryAuth: () => token !== 'expired' });
  h.outcomes.push({ kind: 'unauthorized' });
  await advance(30_000);
  expect(h.runs()).toBe(1);
  expect(h.scheduler.snapshot()).toMatchObject({ stoppedForAuth: true, nextRunAt: null });
  await advance(10 * 60_000);
  h.online.fire();
  expect(h.runs()).toBe(1);
  token = 'fresh';
  await advance(30_000);
  expect(h.runs()).toBe(2);
  expect(h.scheduler.snapshot().stoppedForAuth).toBe(false);
  await h.scheduler.dispose();
});

test('when a run throws, it counts as a server failure and the scheduler keeps going', async () => {
  const h = harness({
    intervalSeconds: 3600,
    run: () => Promise.reject(new Error('boom')),
  });
  await expect(h.scheduler.syncNow()).resolves.toBeUndefined();
  expect(h.scheduler.snapshot().failures).toBe(1);
  await h.scheduler.dispose();
});

test('after dispose, no timer fires and "Sync now" does nothing', async () => {
  const h = harness();
  await h.scheduler.dispose();
  await advance(10 * 60_000);
  await h.scheduler.syncNow();
  expect(h.runs()).toBe(0);
});

test('a listener of run-start sees the scheduler running, so the panel says syncing during a run', async () => {
  const seen: boolean[] = [];
  const h = harness({ onEvent: (e, snap) => e.type === 'run-start' && seen.push(snap.running) });
  await h.scheduler.syncNow();
  expect(seen).toEqual([true]);
});

test('started while offline (a browser opened with no network), the first online event runs a sync without waiting for a tick', async () => {
  let online = false;
  const h = harness({ intervalSeconds: 3600, isOnline: () => online });
  expect(h.runs()).toBe(0);
  online = true;
  h.online.fire();
  await advance(0);
  expect(h.runs()).toBe(1);
});

describe('records found waiting at a start or a sign-in (runOwed)', () => {
  test('with auto sync on and online, they are sent at once, not at the first tick', async () => {
    const h = harness({ intervalSeconds: 300 });
    await h.scheduler.runOwed();
    expect(h.runs()).toBe(1);
    expect(h.scheduler.snapshot().nextRunAt).toBe(jest.now() + 300_000);
    await h.scheduler.dispose();
  });

  test('with auto sync off, nothing is sent, neither at once nor when the network comes back, until "Sync now"', async () => {
    let online = false;
    const h = harness({ enabled: false, isOnline: () => online });
    await h.scheduler.runOwed();
    online = true;
    h.online.fire();
    await advance(3600_000);
    expect(h.runs()).toBe(0);
    await h.scheduler.syncNow();
    expect(h.runs()).toBe(1);
  });

  test('offline, they are sent as soon as the browser is online', async () => {
    let online = false;
    const h = harness({ intervalSeconds: 3600, isOnline: () => online });
    await h.scheduler.runOwed();
    expect(h.runs()).toBe(0);
    expect(h.events).toContain('skipped-offline');
    online = true;
    h.online.fire();
    await advance(0);
    expect(h.runs()).toBe(1);
    await h.scheduler.dispose();
  });

  test('during a run, or while the session is refused, no second run starts', async () => {
    let release!: () => void;
    const h = harness({ hold: new Promise<void>((r) => (release = r)) });
    const first = h.scheduler.syncNow();
    await advance(0);
    await h.scheduler.runOwed();
    expect(h.runs()).toBe(1);
    release();
    await first;

    const refused = harness();
    refused.outcomes.push({ kind: 'unauthorized' });
    await refused.scheduler.syncNow();
    await refused.scheduler.runOwed();
    expect(refused.runs()).toBe(1);
    expect(refused.scheduler.snapshot().stoppedForAuth).toBe(true);
    await h.scheduler.dispose();
    await refused.scheduler.dispose();
  });
});

test('started offline with auto sync off, the network coming back sends nothing', async () => {
  let online = false;
  const h = harness({ enabled: false, isOnline: () => online });
  online = true;
  h.online.fire();
  await advance(0);
  expect(h.runs()).toBe(0);
});
