import { serverLacks } from './device-report';

describe('serverLacks: records the server lost, from a device report and its answer', () => {
  test.each([
    ['all made were sent and are held', { made: 5, pending: 0, rejected: 0, serverHolds: 5 }, 0],
    ['two new records still pending', { made: 5, pending: 2, rejected: 0, serverHolds: 3 }, 0],
    ['a refused record is neither pending nor held', { made: 5, pending: 0, rejected: 1, serverHolds: 4 }, 0],
    ['the server holds more (the count started after some records)', { made: 2, pending: 0, rejected: 0, serverHolds: 7 }, 0],
    ['a restored backup lost three confirmed records', { made: 10, pending: 1, rejected: 0, serverHolds: 6 }, 3],
  ])('%s', (_situation, figures, lacks) => {
    expect(serverLacks(figures)).toBe(lacks);
  });
});
