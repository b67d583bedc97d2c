/**
 * Runs `run(key)` for a caller, one run of a key at a time, and folds callers together: a call while
 * a run of its key is waiting to start shares that run; a call while one is running gets the next
 * one, which starts after it. Every caller's promise settles with a run that started after its call,
 * so it fits work that reads the latest state and publishes it (a room's groups, its live coupon):
 * a burst of changes costs one run in progress and one waiting per key, not one each.
 */
export function coalesce<K>(run: (key: K) => Promise<void>): (key: K) => Promise<void> {
  const keys = new Map<K, { tail: Promise<void>; waiting: Promise<void> | null }>();
  return (key) => {
    let entry = keys.get(key);
    if (entry?.waiting) return entry.waiting;
    if (!entry) keys.set(key, (entry = { tail: Promise.resolve(), waiting: null }));
    const self = entry;
    const next = self.tail.then(() => {
      self.waiting = null;
      return run(key);
    });
    self.waiting = next;
    const tail = next.catch(() => {});
    self.tail = tail;
    void tail.then(() => {
      if (self.tail === tail && keys.get(key) === self) keys.delete(key);
    });
    return next;
  };
}
