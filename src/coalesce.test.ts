import { describe, expect, it } from "vitest";
import { coalesce } from "./coalesce.js";

/** A run that waits until released, recording when each run of a key starts. */
function gated() {
  const started: string[] = [];
  const releases: (() => void)[] = [];
  const run = (key: string) => {
    started.push(key);
    return new Promise<void>((resolve) => releases.push(resolve));
  };
  return { started, release: () => releases.shift()!(), run };
}

const tick = () => new Promise((r) => setImmediate(r));

describe("coalesce", () => {
  it("runs one at a time per key, folds the calls that wait into one run, and starts it after the one running", async () => {
    const g = gated();
    const announce = coalesce(g.run);
    const first = announce("a");
    await tick();
    expect(g.started).toEqual(["a"]);
    // Three calls while the first runs: one more run, after it.
    const [second, third, fourth] = [announce("a"), announce("a"), announce("a")];
    expect(second).toBe(third);
    expect(third).toBe(fourth);
    // Another key runs alongside.
    const other = announce("b");
    await tick();
    expect(g.started).toEqual(["a", "b"]);
    g.release(); // a's first run ends
    await first;
    await tick();
    expect(g.started).toEqual(["a", "b", "a"]);
    g.release(); // b
    g.release(); // a's second run
    await Promise.all([second, other]);
    // Nothing waits any more: the next call starts a run of its own at once.
    const fifth = announce("a");
    await tick();
    expect(g.started).toEqual(["a", "b", "a", "a"]);
    g.release();
    await fifth;
  });

  it("gives a failed run's callers its error and runs the next call afresh", async () => {
    let n = 0;
    const announce = coalesce(() => (++n === 1 ? Promise.reject(new Error("Redis silent")) : Promise.resolve()));
    await expect(announce("a")).rejects.toThrow("Redis silent");
    await expect(announce("a")).resolves.toBeUndefined();
    expect(n).toBe(2);
  });
});
