import '../../test/support/local-storage';
import { countMade, madeCount, madeKey } from './device-made';

beforeEach(() => localStorage.clear());

test("two databases in one page count apart, and an older build's per-site count is taken over once", () => {
  countMade('sems-test-1', 'site-a', 3);
  countMade('sems-test-2', 'site-a', 2);
  expect([madeCount('sems-test-1', 'site-a'), madeCount('sems-test-2', 'site-a')]).toEqual([3, 2]);

  localStorage.setItem('sems_made:site-b', '7'); // written by a build that counted per site
  expect(madeCount('sems-site-b', 'site-b')).toBe(7);
  countMade('sems-site-b', 'site-b');
  expect(madeCount('sems-site-b', 'site-b')).toBe(8);
  expect(localStorage.getItem('sems_made:site-b')).toBeNull();
  expect(localStorage.getItem(madeKey('sems-site-b'))).toBe('8');
});
