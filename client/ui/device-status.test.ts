import type { Device } from '../../schemas/devices';
import { clockText, deviceStatus } from './device-status';

const now = Date.parse('2026-11-30T12:00:00.000Z');
const base: Device = {
  deviceId: 'd1',
  name: null,
  userAgent: null,
  browser: null,
  refusedCount: 0,
  refused: [],
  lastUser: 'alice',
  firstSeenAt: '2026-11-01T08:00:00.000Z',
  lastSeenAt: '2026-11-30T11:00:00.000Z',
  lastPushAt: '2026-11-30T11:00:00.000Z',
  reportedAt: '2026-11-30T11:00:00.000Z',
  pendingCount: 0,
  oldestPendingAt: null,
  appVersion: '0.1.0',
  madeCount: 4,
  serverHolds: 4,
  clockOffsetMs: 0,
  allDelivered: true,
  flagged: false,
  revokedAt: null,
};

describe('deviceStatus: what the devices view says of a device', () => {
  test.each<[string, Partial<Device>, string, string]>([
    ['all delivered', {}, 'All delivered', 'ok'],
    ['records pending', { pendingCount: 2, allDelivered: false }, '2 records pending', 'pending'],
    [
      'unseen for two days with records pending',
      { pendingCount: 1, allDelivered: false, flagged: true, lastSeenAt: '2026-11-28T12:00:00.000Z' },
      'Unseen for 2 days with 1 record pending',
      'bad',
    ],
    ['records refused by the server', { madeCount: 5, refusedCount: 1, allDelivered: false }, '1 record refused by the server', 'bad'],
    [
      'records pending and refused',
      { madeCount: 7, pendingCount: 1, refusedCount: 2, allDelivered: false },
      '1 record pending · 2 records refused by the server',
      'bad',
    ],
    ['nothing pending but the server lacks records', { madeCount: 6, allDelivered: false }, 'Server lacks 2 records it made', 'bad'],
    ['only seen by its pushes', { pendingCount: null, madeCount: null, allDelivered: false }, 'No report yet', 'pending'],
  ])('%s', (_situation, change, text, tone) => {
    expect(deviceStatus({ ...base, ...change }, now)).toEqual({ text, tone });
  });
});

describe('clockText: a device clock in words', () => {
  test.each<[number | null, string, boolean]>([
    [null, 'not measured', false],
    [1500, 'right', false],
    [-4 * 60_000, '4 minutes slow', false],
    [3 * 24 * 3600_000 + 5000, '3 days fast', true],
  ])('%p ms is "%s"', (offset, text, warn) => {
    expect(clockText(offset)).toEqual({ text, warn });
  });
});
