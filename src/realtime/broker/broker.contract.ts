import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PendingEvent, PresenceReport, RoomBroker, RoomMessage } from "./broker.js";

/** What the contract needs of an implementation. */
export interface BrokerHarness {
  broker: RoomBroker;
  /** Another node's broker on the same rooms (the same object where there is only one node). */
  peer: RoomBroker;
  /** The history bound the broker was made with. */
  maxLen: number;
  /** Loses a room's sequence and history, as a store that lost its data would. */
  lose(roomId: string): Promise<void>;
  /** Interrupts `broker`'s subscriptions, as a reconnect would. */
  interrupt(): Promise<void>;
  close(): Promise<void>;
}

const comment = (n: number, sampleable = false): PendingEvent => ({
  body: `"type":"comment","comment":{"id":"c${n}","userId":"u","username":"U","content":"m${n}","timestamp":1,"role":"viewer"}}`,
  sampleable,
});
const seqOf = (frame: string) => (JSON.parse(frame) as { seq: number }).seq;

async function until(check: () => boolean, what: string, timeoutMs = 5000) {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function report(nodeId: string, over: Partial<PresenceReport> = {}): PresenceReport {
  return { nodeId, full: false, joined: [], left: [], anonymous: 0, staleAfterMs: 60_000, likes: 0, comments: 0, ...over };
}

/** Every guarantee written on `RoomBroker`, run against one implementation. */
export function brokerContract(name: string, make: () => Promise<BrokerHarness>) {
  describe(`RoomBroker contract: ${name}`, () => {
    let h: BrokerHarness;
    beforeAll(async () => {
      h = await make();
    });
    afterAll(async () => {
      await h?.close();
    });
    const room = () => `r${randomBytes(5).toString("hex")}`;

    async function listen(broker: RoomBroker, roomId: string) {
      const got: RoomMessage[] = [];
      let missed = 0;
      const sub = await broker.subscribe(roomId, { message: (m) => got.push(m), missed: () => missed++ });
      return { got, sub, missed: () => missed, events: () => got.flatMap((m) => (m.kind === "events" ? m.frames : [])) };
    }

    it("sequences gap-free, stores and publishes in one step, in order, to every node", async () => {
      const id = room();
      const here = await listen(h.broker, id);
      const there = await listen(h.peer, id);
      const first = await h.broker.append(id, [comment(1), comment(2)], 100);
      const second = await h.peer.append(id, [comment(3)], 100);
      expect(first).toMatchObject({ firstSeq: 1, rejected: [] });
      expect(second).toEqual({ epoch: first.epoch, firstSeq: 3, rejected: [] });
      for (const l of [here, there]) {
        await until(() => l.events().length === 3, "three events");
        expect(l.events().map(seqOf)).toEqual([1, 2, 3]);
        expect(l.got.map((m) => m.kind === "events" && m.epoch)).toEqual([first.epoch, first.epoch]);
      }
      expect(here.events()[0]).toBe(`{"seq":1,${comment(1).body}`);
      const stored = await h.peer.history(id, 1, 3);
      expect(stored).toEqual(here.events().map((frame) => ({ seq: seqOf(frame), frame })));
      await here.sub.close();
      await there.sub.close();
    });

    it("drops sampleable events past the room's budget for the second, never the others", async () => {
      const id = room();
      const out = await h.broker.append(id, [comment(1, true), comment(2, true), comment(3), comment(4, true)], 2);
      expect(out.rejected).toEqual([3]);
      expect((await h.broker.history(id, 1, 10)).map((e) => e.frame)).toEqual([1, 2, 3].map((n, i) => `{"seq":${i + 1},${comment(n).body}`));
    });

    it("serves history since a position while the bounded store holds it", async () => {
      const id = room();
      const total = h.maxLen * 3;
      for (let n = 0; n < total; n += 100) await h.broker.append(id, Array.from({ length: 100 }, (_, i) => comment(n + i)), 1000);
      const tail = await h.broker.history(id, total - 9, total);
      expect(tail.map((e) => e.seq)).toEqual(Array.from({ length: 10 }, (_, i) => total - 9 + i));
      const all = await h.broker.history(id, 1, total);
      expect(all.length).toBeGreaterThanOrEqual(h.maxLen);
      expect(all.length).toBeLessThan(total);
      expect(all.at(-1)!.seq).toBe(total);
      expect(all.map((e) => e.seq)).toEqual(Array.from({ length: all.length }, (_, i) => all[0]!.seq + i));
    });

    it("loads the sequence, state, words, mutes and recent events in one read", async () => {
      const id = room();
      const empty = await h.broker.load(id, 5);
      expect(empty).toMatchObject({ seq: 0, likes: 0, words: null, recent: [] });
      expect(empty.state).toMatchObject({ status: "idle", bubble: null, upcoming: [], groups: [] });
      await h.broker.append(id, [1, 2, 3].map((n) => comment(n)), 100);
      await h.broker.setState(id, "status", "live", { type: "stream_start", streamId: id, at: 1 });
      await h.broker.setState(id, "pinned", { text: "hi", by: "H", at: 2 }, { type: "pinned", pin: { text: "hi", by: "H", at: 2 } });
      await h.broker.setState(id, "slowModeSec", 5, { type: "slow_mode", seconds: 5 });
      await h.broker.setWords(id, ["scam"]);
      await h.broker.setMute(id, "u1", 9_999_999_999_999);
      await h.broker.report(id, report("n1", { full: true, anonymous: 1, likes: 4 }));
      const loaded = await h.peer.load(id, 2);
      expect(loaded).toMatchObject({ epoch: empty.epoch, seq: 3, likes: 4, words: ["scam"] });
      expect(loaded.state).toMatchObject({ status: "live", pinned: { text: "hi" }, slowModeSec: 5 });
      expect(loaded.recent.map((e) => e.seq)).toEqual([2, 3]);
      expect([...loaded.muted]).toEqual([["u1", 9_999_999_999_999]]);
      await h.broker.setState(id, "pinned", null, { type: "pinned", pin: null });
      await h.broker.setMute(id, "u1", 0);
      const cleared = await h.broker.load(id, 0);
      expect(cleared.state.pinned).toBeNull();
      expect(cleared.muted.size).toBe(0);
    });

    it("publishes state, mutes and words after storing them", async () => {
      const id = room();
      const there = await listen(h.peer, id);
      await h.broker.setState(id, "bubble", { productId: "p1" }, { type: "product_highlight", productId: "p1", product: { productId: "p1" } });
      await h.broker.setMute(id, "u2", 123);
      await h.broker.setWords(id, ["a", "b"]);
      await until(() => there.got.length === 3, "three messages");
      expect(there.got).toEqual([
        { kind: "state", push: { type: "product_highlight", productId: "p1", product: { productId: "p1" } }, frame: JSON.stringify({ type: "product_highlight", productId: "p1", product: { productId: "p1" } }) },
        { kind: "mute", userId: "u2", until: 123 },
        { kind: "words", words: ["a", "b"] },
      ]);
      await there.sub.close();
    });

    it("stops delivering to a closed subscription, and keeps delivering to the others", async () => {
      const id = room();
      const a = await listen(h.broker, id);
      const b = await listen(h.broker, id);
      await a.sub.close();
      await h.broker.append(id, [comment(1)], 100);
      await until(() => b.events().length === 1, "the open one's event");
      await new Promise((r) => setTimeout(r, 50));
      expect(a.got).toEqual([]);
      await b.sub.close();
    });

    it("resumes a lost sequence under a new epoch, and voids an epoch on request", async () => {
      const id = room();
      const first = await h.broker.append(id, [comment(1), comment(2)], 100);
      await h.lose(id);
      const after = await h.broker.append(id, [comment(3)], 100);
      expect(after.epoch).not.toBe(first.epoch);
      expect(after.firstSeq).toBe(1);
      await h.broker.rotateEpoch(id, first.epoch);
      expect((await h.broker.load(id, 0)).epoch).toBe(after.epoch);
      await h.broker.rotateEpoch(id, after.epoch);
      const rotated = await h.broker.load(id, 0);
      expect(rotated.epoch).not.toBe(after.epoch);
      expect(rotated.seq).toBe(1);
    });

    it("tells subscribers of an interruption, and delivers again after it", async () => {
      const id = room();
      const l = await listen(h.broker, id);
      await h.interrupt();
      await until(() => l.missed() === 1, "missed");
      // The subscription comes back by itself: a later append is delivered.
      const end = Date.now() + 10_000;
      while (l.events().length === 0 && Date.now() < end) {
        await h.broker.append(id, [comment(1)], 100);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(l.events().length).toBeGreaterThan(0);
      await l.sub.close();
    }, 20_000);

    it("counts people once across nodes, anonymous connections each, and only while their node reports", async () => {
      const id = room();
      const r1 = await h.broker.report(id, report("n1", { full: true, joined: ["ann", "bob"], anonymous: 2 }));
      expect(r1).toMatchObject({ viewers: 4, resend: false });
      const r2 = await h.peer.report(id, report("n2", { full: true, joined: ["ann", "cy"], anonymous: 1 }));
      expect(r2.viewers).toBe(6);
      const gone = await h.broker.report(id, report("n1", { left: ["ann"], anonymous: 2 }));
      expect(gone.viewers).toBe(6);
      const left = await h.peer.report(id, report("n2", { left: ["ann"], anonymous: 1 }));
      expect(left.viewers).toBe(5);
      // Reports are idempotent: a change sent twice (a retry) counts once.
      expect((await h.peer.report(id, report("n2", { left: ["ann"], joined: ["cy"], anonymous: 1 }))).viewers).toBe(5);
      expect((await h.broker.peekCounts([id, room()])).get(id)).toEqual({ viewers: 5, likes: 0 });
      // A full report replaces what the node said before.
      expect((await h.broker.report(id, report("n1", { full: true, joined: ["dee"], anonymous: 0 }))).viewers).toBe(3);
      // A node with nobody left withdraws; then one that stops reporting goes stale.
      expect((await h.broker.report(id, report("n1", { left: ["dee"] }))).viewers).toBe(2);
      await h.peer.report(id, report("n2", { staleAfterMs: 1 }));
      await new Promise((r) => setTimeout(r, 20));
      const after = await h.broker.report(id, report("n3", { full: true, joined: ["eve"] }));
      expect(after.viewers).toBe(1);
      expect((await h.broker.peekCounts([id])).get(id)!.viewers).toBe(1);
    });

    it("asks a node the broker forgot for a full report", async () => {
      const id = room();
      await h.broker.report(id, report("n1", { full: true, joined: ["ann"], staleAfterMs: 1 }));
      await new Promise((r) => setTimeout(r, 20));
      await h.peer.report(id, report("n2", { full: true, anonymous: 1 }));
      const counts = await h.broker.report(id, report("n1", { joined: ["bob"] }));
      expect(counts.resend).toBe(true);
      expect((await h.broker.report(id, report("n1", { full: true, joined: ["ann", "bob"] }))).viewers).toBe(3);
    });

    it("adds likes from every node and returns the room's position", async () => {
      const id = room();
      const { epoch } = await h.broker.append(id, [comment(1), comment(2)], 100);
      await h.broker.report(id, report("n1", { full: true, anonymous: 1, likes: 3, comments: 2 }));
      const counts = await h.peer.report(id, report("n2", { full: true, anonymous: 1, likes: 4 }));
      expect(counts).toEqual({ viewers: 2, likes: 7, epoch, seq: 2, resend: false });
      expect((await h.broker.load(id, 0)).likes).toBe(7);
    });
  });
}
