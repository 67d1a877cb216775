/**
 * The browser's localStorage for tests in Node (20 has none), for zustand's persist middleware.
 * Import this module before any store: importing it installs it.
 */
export function installLocalStorage(): void {
  if ((globalThis as { localStorage?: Storage }).localStorage) return;
  const items = new Map<string, string>();
  const storage: Storage = {
    get length() {
      return items.size;
    },
    clear: () => items.clear(),
    getItem: (k) => items.get(k) ?? null,
    key: (i) => [...items.keys()][i] ?? null,
    removeItem: (k) => void items.delete(k),
    setItem: (k, v) => void items.set(k, String(v)),
  };
  Object.defineProperty(globalThis, 'localStorage', { value: storage, configurable: true });
}

installLocalStorage();
