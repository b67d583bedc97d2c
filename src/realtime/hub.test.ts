// The hub on the in-memory broker: two hubs of one process share rooms as two nodes on Redis do.
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../config.js";
import { createLogger } from "../log.js";
import { createMetrics } from "../metrics.js";
import type { Identity } from "../auth/identity.js";
import type { Role } from "../protocol/messages.js";
import { MemoryBroker } from "./broker/broker.memory.js";
import type { EventEntry, FanoutSink, RoomClient } from "./client.js";
import { createCommentRules } from "./comment-rules.js";
import { Hub } from "./hub.js";

const config = loadConfig({ NODE_ENV: "test", HUB_TICK_MS: "10", COUNTS_INTERVAL_MS: "100" });
const stream = { id: "room1", title: "T", hostId: "host", status: "live" as const };

type Frame = { type: string; epoch?: string; events?: { seq: number }[]; [k: string]: unknown };

/** A room client that keeps what it is sent (the transports' sockets are tested end to end elsewhere). */
class TestClient implements RoomClient {
  readonly transport = "ws" as const;
  readonly batch = true;
  role: Role | null = null;
  closed = false;
  readonly frames: Frame[] = [];
  constructor(readonly identity: Identity | null) {}
  send(frame: string) {
    this.frames.push(JSON.parse(frame) as Frame);
  }
  startLive() {}
  close() {
    this.closed = true;
  }
}

/** A sink that records what a node delivers to its local sockets. */
function recordingSink() {
  const events: EventEntry[] = [];
  const pushes: { type: string }[] = [];
  const sink: FanoutSink = { events: (_room, _epoch, entries) => void events.push(...entries), push: (_room, _frame, m) => void pushes.push(m) };
  return { sink, events, pushes };
}

const until = async (check: () => boolean, what: string) => {
  const end = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe("Hub on the in-memory broker", () => {
  const hubs: Hub[] = [];
  afterEach(async () => {
    await Promise.all(hubs.splice(0).map((h) => h.stop()));
  });

  function node(broker: MemoryBroker, nodeId: string) {
    const hub = new Hub({
      config: { ...config, nodeId },
      log: createLogger("silent", nodeId),
      metrics: createMetrics(),
      broker,
      rules: createCommentRules(config.comments),
      streams: { find: (id) => Promise.resolve(id === stream.id ? stream : null), setStatus: () => Promise.resolve() },
    });
    const out = recordingSink();
    hub.addSink(out.sink);
    hub.start();
    hubs.push(hub);
    return { hub, ...out };
  }
  const user = (userId: string): Identity => ({ userId, username: userId, admin: false });

  it("sequences a comment once and delivers it on both nodes; counts a person on both nodes once", async () => {
    const broker = new MemoryBroker({ maxLen: 100 });
    const [a, b] = [node(broker, "a"), node(broker, "b")];
    const fanOnA = new TestClient(user("fan"));
    const fanOnB = new TestClient(user("fan"));
    const anon = new TestClient(null);
    await a.hub.join(fanOnA, stream.id, null);
    await b.hub.join(fanOnB, stream.id, null);
    await b.hub.join(anon, stream.id, null);
    expect(fanOnA.frames[0]).toMatchObject({ type: "snapshot", recovered: false, you: { userId: "fan", role: "viewer" } });

    const reply = await a.hub.handle(fanOnA, { type: "comment", id: "c", comment: { content: "hello" } });
    expect(reply).toEqual({ type: "ack", id: "c", seq: 1 });
    for (const n of [a, b]) await until(() => n.events.length === 1, "the comment on each node");
    expect(b.events[0]!.frame).toBe(a.events[0]!.frame);

    await until(() => [a, b].every((n) => n.pushes.some((p) => p.type === "viewer_count" && (p as { count?: number }).count === 2)), "2 viewers");
  });

  it("answers a reconnect inside the ring with exactly the missed events, and a stale epoch with a fresh snapshot", async () => {
    const broker = new MemoryBroker({ maxLen: 100 });
    const a = node(broker, "a");
    const host = new TestClient({ userId: "host", username: "Host", admin: false });
    await a.hub.join(host, stream.id, null);
    for (const text of ["one", "two", "three"]) await a.hub.handle(host, { type: "comment", comment: { content: text } });
    await until(() => a.events.length === 3, "three events");
    const epoch = host.frames[0]!.epoch!;

    const back = new TestClient(null);
    await a.hub.join(back, stream.id, { epoch, seq: 1 });
    expect(back.frames.map((f) => f.type)).toEqual(["snapshot", "batch"]);
    expect(back.frames[0]).toMatchObject({ recovered: true, recentComments: [] });
    expect(back.frames[1]!.events!.map((e) => e.seq)).toEqual([2, 3]);

    const stale = new TestClient(null);
    await a.hub.join(stale, stream.id, { epoch: "gone", seq: 2 });
    expect(stale.frames).toHaveLength(1);
    expect(stale.frames[0]).toMatchObject({ type: "snapshot", recovered: false, seq: 3 });
  });

  it("catches up after an interrupted subscription: state and events written meanwhile reach its viewers, in order", async () => {
    const broker = new MemoryBroker({ maxLen: 100 });
    const a = node(broker, "a");
    const host = new TestClient({ userId: "host", username: "Host", admin: false });
    await a.hub.join(host, stream.id, null);
    await a.hub.handle(host, { type: "comment", comment: { content: "before" } });
    await until(() => a.events.length === 1, "the first comment");
    // Another node's writes, stored while this node's subscription is away: their messages never come.
    await broker.interrupt(async () => {
      await broker.setState(stream.id, "pinned", { text: "while away", by: "Host", at: 1 }, { type: "pinned", pin: { text: "while away", by: "Host", at: 1 } });
      await broker.append(stream.id, [{ body: `"type":"comment_deleted","commentId":"x"}`, sampleable: false }], 100);
    });
    await until(() => a.events.length === 2, "the missed event");
    expect(a.events.map((e) => e.seq)).toEqual([1, 2]);
    expect(a.pushes.filter((p) => p.type === "pinned")).toEqual([{ type: "pinned", pin: { text: "while away", by: "Host", at: 1 } }]);
    // Live again: the next comment comes straight through.
    await a.hub.handle(host, { type: "comment", comment: { content: "after" } });
    await until(() => a.events.length === 3, "the next comment");
  });
});
