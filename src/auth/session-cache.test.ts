// The HTTP API's session cache: one lookup per token while it is kept, forgotten at logout and when a user's sessions end.
import { describe, expect, it } from "vitest";
import type { Identity } from "./identity.js";
import { cachedSessions } from "./session-cache.js";

function counting(known: Record<string, Identity>) {
  const calls: string[] = [];
  return {
    calls,
    authenticate: async (token: string) => {
      calls.push(token);
      await Promise.resolve();
      return known[token] ?? null;
    },
  };
}

const ann: Identity = { userId: "u1", username: "Ann", admin: false };
const session = (hash: string): Identity => ({ ...ann, session: { hash, expiresAt: Date.now() + 60_000, checkedAt: Date.now() } });

describe("session cache", () => {
  it("looks a known token up once while it is kept, unknown tokens every time, and shares concurrent lookups", async () => {
    const db = counting({ t1: ann });
    const s = cachedSessions(db.authenticate, { ttlMs: 60_000, maxEntries: 10 });
    expect(await Promise.all([s.authenticate("t1"), s.authenticate("t1"), s.authenticate("t1")])).toEqual([ann, ann, ann]);
    expect(await s.authenticate("t1")).toEqual(ann);
    expect(await s.authenticate("nope")).toBeNull();
    expect(await s.authenticate("nope")).toBeNull();
    expect(db.calls).toEqual(["t1", "nope", "nope"]);
  });

  it("forgets a session at logout (by its hash) and every session of a user whose sessions ended", async () => {
    const db = counting({ t1: session("h1"), t2: session("h2") });
    const s = cachedSessions(db.authenticate, { ttlMs: 60_000, maxEntries: 10 });
    await s.authenticate("t1");
    await s.authenticate("t2");
    s.forgetSession("h1");
    await s.authenticate("t1");
    await s.authenticate("t2");
    expect(db.calls).toEqual(["t1", "t2", "t1"]);
    s.forgetUser("u1");
    await s.authenticate("t1");
    await s.authenticate("t2");
    expect(db.calls).toEqual(["t1", "t2", "t1", "t1", "t2"]);
  });

  it("does not keep a lookup that was in flight when its user's sessions ended", async () => {
    const calls: string[] = [];
    let go: () => void = () => undefined;
    const s = cachedSessions(
      async (token) => {
        calls.push(token);
        await new Promise<void>((r) => (go = r));
        return ann;
      },
      { ttlMs: 60_000, maxEntries: 10 },
    );
    const first = s.authenticate("t1");
    await new Promise((r) => setTimeout(r, 2));
    s.forgetUser("u1");
    go();
    expect(await first).toEqual(ann);
    const second = s.authenticate("t1");
    go();
    await second;
    expect(calls).toEqual(["t1", "t1"]);
  });

  it("asks every time when turned off, and keeps at most maxEntries", async () => {
    const off = counting({ t1: ann });
    const s = cachedSessions(off.authenticate, { ttlMs: 0, maxEntries: 10 });
    await s.authenticate("t1");
    await s.authenticate("t1");
    expect(off.calls).toHaveLength(2);
    const small = counting({ a: ann, b: ann, c: ann });
    const t = cachedSessions(small.authenticate, { ttlMs: 60_000, maxEntries: 2 });
    for (const k of ["a", "b", "c", "a"]) await t.authenticate(k);
    expect(small.calls).toEqual(["a", "b", "c", "a"]);
  });

  it("keeps a session no longer than the session itself lasts", async () => {
    const db = counting({ t1: { ...ann, session: { hash: "h1", expiresAt: Date.now() + 30, checkedAt: Date.now() } } });
    const s = cachedSessions(db.authenticate, { ttlMs: 60_000, maxEntries: 10 });
    await s.authenticate("t1");
    await s.authenticate("t1");
    expect(db.calls).toEqual(["t1"]);
    await new Promise((r) => setTimeout(r, 40));
    await s.authenticate("t1");
    expect(db.calls).toEqual(["t1", "t1"]);
  });

  it("forgets every session at once, and does not keep a lookup that was in flight then", async () => {
    const calls: string[] = [];
    let go: () => void = () => undefined;
    const s = cachedSessions(
      async (token) => {
        calls.push(token);
        if (token === "slow") await new Promise<void>((r) => (go = r));
        return token === "slow" ? { ...ann, userId: "u2" } : session(`h-${token}`);
      },
      { ttlMs: 60_000, maxEntries: 10 },
    );
    await s.authenticate("t1");
    await s.authenticate("t2");
    const slow = s.authenticate("slow");
    await new Promise((r) => setTimeout(r, 2));
    s.forgetAll();
    go();
    await slow;
    for (const t of ["t1", "t2", "slow", "t1"]) {
      const next = s.authenticate(t);
      go();
      await next;
    }
    expect(calls).toEqual(["t1", "t2", "slow", "t1", "t2", "slow"]);
  });
});
