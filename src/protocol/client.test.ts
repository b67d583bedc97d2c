import { describe, expect, it } from "vitest";
import type { z } from "zod";
import {
  applyStatePush,
  COMMAND_TYPES,
  commands,
  emptyRoomState,
  ERRORS,
  EVENT_TYPES,
  HOST_COMMAND_TYPES,
  isFinalClose,
  REPLY_TYPES,
  SeqTracker,
  SERVER_MESSAGE_TYPES,
  STATE_PUSH_TYPES,
  withGroup,
  type GroupProgress as ClientGroup,
  type RoomState as ClientRoomState,
  type StatePush as ClientStatePush,
} from "./client.js";
import { CLIENT_COMMAND_TYPES, ClientCommand, HOST_COMMANDS, RoomEvent, ServerMessage, StatePush, type GroupProgress, type RoomState } from "./messages.js";

// Compile-time: the plain types clients use are exactly the schemas' types.
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const sameState: Equal<ClientRoomState, RoomState> = true;
const sameGroup: Equal<ClientGroup, GroupProgress> = true;
const samePush: Equal<ClientStatePush["type"], StatePush["type"]> = true;
// Every builder makes a command the server's schema accepts (as input: defaults may be left out).
type Built = ReturnType<(typeof commands)[keyof typeof commands]>;
const builtIsCommand: Built extends z.input<typeof ClientCommand> ? true : false = true;
void [sameState, sameGroup, samePush, builtIsCommand];

const group = (id: string, status: GroupProgress["status"], taken = 1): GroupProgress => ({
  id,
  activityId: "a1",
  productId: "p1",
  status,
  flow: "join_first",
  size: 3,
  taken,
  paid: 0,
  left: 3 - taken,
  endsAt: 1_700_000_000_000,
});

describe("message type constants", () => {
  it("name every ServerMessage and ClientCommand type of the schemas", () => {
    const serverTypes = ServerMessage.options.map((o) => o.shape.type.value);
    for (const t of serverTypes) expect(SERVER_MESSAGE_TYPES, t).toContain(t);
    expect(new Set(SERVER_MESSAGE_TYPES)).toEqual(new Set(serverTypes));
    expect(new Set(COMMAND_TYPES)).toEqual(new Set(CLIENT_COMMAND_TYPES));
    expect(new Set(EVENT_TYPES)).toEqual(new Set(RoomEvent.options.map((o) => o.shape.type.value)));
    for (const t of StatePush.options.map((o) => o.shape.type.value)) expect(STATE_PUSH_TYPES, t).toContain(t);
    for (const t of REPLY_TYPES) expect(serverTypes).toContain(t);
    expect(new Set(HOST_COMMAND_TYPES)).toEqual(HOST_COMMANDS);
  });

  it("builders make commands the server's schema accepts", () => {
    const built = [
      commands.comment("hi", "c1"),
      commands.like(),
      commands.like(5),
      commands.ping(),
      commands.highlight({ productId: "p1", title: "Tea", priceFen: 1200 }),
      commands.highlight(null),
      commands.streamStart(),
      commands.streamEnd("e1"),
      commands.pin("Free shipping today"),
      commands.pin(null),
      commands.mute("u1"),
      commands.mute("u1", 60),
      commands.unmute("u1"),
      commands.deleteComment("c9"),
      commands.slowMode(10),
    ];
    for (const c of built) expect(ClientCommand.safeParse(c).success, JSON.stringify(c)).toBe(true);
    expect(commands.comment("hi")).toEqual({ type: "comment", comment: { content: "hi" } });
    expect(commands.comment("hi", "c1")).toEqual({ type: "comment", comment: { content: "hi" }, id: "c1" });
    expect(commands.highlight(null)).toEqual({ type: "product_highlight", productId: null });
  });

  it("gives every error code a short Chinese toast text", () => {
    for (const [code, e] of Object.entries(ERRORS)) {
      expect(e.zh, code).toMatch(/[\u4e00-\u9fff]/);
      expect(e.zh.length, code).toBeLessThanOrEqual(14);
    }
  });

  it("tells final close codes (4500-4999) from retryable ones", () => {
    expect(isFinalClose(4504)).toBe(true);
    expect(isFinalClose(4001)).toBe(false);
    expect(isFinalClose(4002)).toBe(false);
    expect(isFinalClose(1006)).toBe(false);
    expect(isFinalClose(1000)).toBe(false);
  });
});

describe("SeqTracker", () => {
  it("delivers the next event, drops duplicates and reports gaps", () => {
    const t = new SeqTracker();
    expect(t.position()).toBeNull();
    expect(t.classify({ seq: 1 })).toBe("gap");
    t.snapshot({ recovered: false, epoch: "e1", seq: 10 });
    expect(t.position()).toEqual({ epoch: "e1", seq: 10 });
    expect(t.offer({ seq: 10 })).toBe("duplicate");
    expect(t.offer({ seq: 11 })).toBe("next");
    expect(t.offer({ seq: 11 })).toBe("duplicate");
    expect(t.offer({ seq: 13 })).toBe("gap");
    expect(t.position()).toEqual({ epoch: "e1", seq: 11 });
    expect(t.offer({ seq: 12 })).toBe("next");
    expect(t.offer({ seq: 13 })).toBe("next");
    expect(t.offer({})).toBe("unsequenced");
    expect(t.position()).toEqual({ epoch: "e1", seq: 13 });
  });

  it("keeps its position on a recovered snapshot and starts over on a fresh one", () => {
    const t = new SeqTracker();
    t.snapshot({ recovered: false, epoch: "e1", seq: 5 });
    t.offer({ seq: 6 });
    // Reconnected at (e1, 6) while the room went on to 9: the missed 7..9 follow the snapshot.
    t.snapshot({ recovered: true, epoch: "e1", seq: 9 });
    expect(t.position()).toEqual({ epoch: "e1", seq: 6 });
    expect([7, 8, 9].map((seq) => t.offer({ seq }))).toEqual(["next", "next", "next"]);
    // A new epoch: everything restarts from the snapshot.
    t.snapshot({ recovered: false, epoch: "e2", seq: 2 });
    expect(t.position()).toEqual({ epoch: "e2", seq: 2 });
    expect(t.offer({ seq: 3 })).toBe("next");
    // "recovered" for another epoch than the one held cannot keep the old position.
    t.snapshot({ recovered: true, epoch: "e3", seq: 40 });
    expect(t.position()).toEqual({ epoch: "e3", seq: 40 });
    expect(t.sameEpoch("e3")).toBe(true);
    t.reset();
    expect(t.position()).toBeNull();
  });
});

describe("applyStatePush", () => {
  it("applies each state push to the snapshot's state without touching the input", () => {
    const s0 = emptyRoomState();
    const frozen = JSON.stringify(s0);
    let s = applyStatePush(s0, { type: "stream_start", streamId: "s", at: 1 });
    expect(s.status).toBe("live");
    s = applyStatePush(s, { type: "product_highlight", productId: "p1", product: { productId: "p1", title: "Tea", priceFen: 990 } });
    expect(s.bubble).toEqual({ productId: "p1", title: "Tea", priceFen: 990 });
    s = applyStatePush(s, { type: "pinned", pin: { text: "包邮", by: "host", at: 2 } });
    s = applyStatePush(s, { type: "slow_mode", seconds: 5 });
    const sale = { id: "f1", productId: "p1", skuId: "k1", priceFen: 500, quantity: 10, left: 10, perUserLimit: 1, endsAt: 9 };
    s = applyStatePush(s, { type: "flash_sale", sale });
    s = applyStatePush(s, { type: "flash_sale", sale: { ...sale, left: 4 } });
    const item = { id: "sp1", productId: "p2", title: "Cup", priceFen: null, imageUrl: null, at: 99, countdownSec: 30 };
    s = applyStatePush(s, { type: "upcoming_products", items: [item] });
    s = applyStatePush(s, { type: "product_countdown", countdown: { id: "sp1", productId: "p2", title: "Cup", priceFen: null, imageUrl: null, at: 99 } });
    const coupon = { id: "c1", title: "满100减10", discountFen: 1000, minSpendFen: 10000, quantity: 5, left: 5, expiresAt: 9 };
    s = applyStatePush(s, { type: "coupon", coupon });
    expect(s).toMatchObject({ status: "live", pinned: { text: "包邮" }, slowModeSec: 5, flashSale: { left: 4 }, upcoming: [item], countdown: { id: "sp1" }, coupon });
    s = applyStatePush(s, { type: "product_highlight", productId: null, product: null });
    s = applyStatePush(s, { type: "stream_end", streamId: "s", at: 3 });
    expect(s).toMatchObject({ status: "ended", bubble: null });
    expect(JSON.stringify(s0)).toBe(frozen);
  });

  it("returns the same state for counts and unknown types", () => {
    const s = emptyRoomState();
    expect(applyStatePush(s, { type: "viewer_count", count: 3 })).toBe(s);
    expect(applyStatePush(s, { type: "something_new" } as never)).toBe(s);
  });

  it("keeps open groups: updates in place, adds newest first, removes ended ones, or takes the room's list", () => {
    let s = emptyRoomState();
    s = applyStatePush(s, { type: "group_progress", group: group("g1", "open") });
    s = applyStatePush(s, { type: "group_progress", group: group("g2", "open") });
    expect(s.groups.map((g) => g.id)).toEqual(["g2", "g1"]);
    s = applyStatePush(s, { type: "group_progress", group: group("g1", "open", 2) });
    expect(s.groups.map((g) => [g.id, g.taken])).toEqual([["g2", 1], ["g1", 2]]);
    s = applyStatePush(s, { type: "group_complete", group: group("g1", "complete", 3) });
    expect(s.groups.map((g) => g.id)).toEqual(["g2"]);
    s = applyStatePush(s, { type: "group_failed", group: group("g2", "failed") });
    expect(s.groups).toEqual([]);
    // A pending (leader_pays, unpaid) group is not listed.
    expect(withGroup([], group("g3", "pending"))).toEqual([]);
    // The room's list after the change wins when the push carries it.
    s = applyStatePush(s, { type: "group_progress", group: group("g4", "open"), groups: [group("g5", "open"), group("g4", "open")] });
    expect(s.groups.map((g) => g.id)).toEqual(["g5", "g4"]);
    const many = Array.from({ length: 25 }, (_, i) => group(`m${i}`, "open"));
    expect(many.reduce<GroupProgress[]>((gs, g) => withGroup(gs, g), []).length).toBe(20);
  });
});
