/**
 * The open-source Dexie storage of RxDB prints a banner about premium storages with each new
 * storage (once per test file): noise in a test run's output, not a finding. Every other warning
 * is printed as it is.
 */
const warn = console.warn.bind(console);
console.warn = (...args: unknown[]) => {
  if (typeof args[0] === 'string' && args[0].includes('RxDB Open Core RxStorage')) return;
  warn(...args);
};
