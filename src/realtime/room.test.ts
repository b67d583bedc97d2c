import { describe, expect, it } from "vitest";
import type { RoomClient } from "./client.js";
import { emptyRoomState } from "./broker/room-state.codec.js";
import { LocalRoom, parseEventFrame } from "./room.js";

const frame = (seq: number, role = "viewer", id = `c${seq}`) =>
  JSON.stringify({ seq, type: "comment", comment: { id, userId: "u", username: "U", content: `m${seq}`, timestamp: 1, role } });
const entry = (seq: number, role?: string) => parseEventFrame(frame(seq, role))!;

function roomWith(seqs: number[], ringSize = 4) {
  const room = new LocalRoom({ id: "r", title: "T", hostId: "h" }, ringSize, 2, { now: 0 });
  room.load({ epoch: "e1", seq: seqs.at(-1) ?? 0, state: emptyRoomState(), likes: 0, words: null, muted: new Map(), recent: seqs.map((s) => ({ seq: s, frame: frame(s) })) });
  return room;
}

describe("LocalRoom", () => {
  it("parses event frames and marks which are critical", () => {
    expect(entry(1).critical).toBe(false);
    expect(entry(2, "host").critical).toBe(true);
    expect(parseEventFrame(JSON.stringify({ seq: 3, type: "comment_deleted", commentId: "c1" }))!.critical).toBe(true);
    expect(parseEventFrame("{nope")).toBeNull();
    expect(parseEventFrame(JSON.stringify({ seq: 1, type: "viewer_count", count: 2 }))).toBeNull();
  });

  it("serves events after a position only while its ring reaches back that far", () => {
    const room = roomWith([1, 2, 3, 4, 5, 6], 4);
    expect(room.eventsAfter(6)).toEqual([]);
    expect(room.eventsAfter(9)).toEqual([]);
    expect(room.eventsAfter(2)!.map((e) => e.seq)).toEqual([3, 4, 5, 6]);
    expect(room.eventsAfter(1)).toBeNull();
  });

  it("builds snapshots with the recent comments, minus deleted ones, and refreshes them on change", () => {
    const room = roomWith([1, 2, 3]);
    const you = { identity: { userId: "u9", username: "V", admin: false }, role: "viewer" } as RoomClient;
    const first = JSON.parse(room.snapshotFrame(false, you)) as { recentComments: { seq: number }[]; you: unknown };
    expect(first.recentComments.map((c) => c.seq)).toEqual([2, 3]);
    expect(first.you).toEqual({ userId: "u9", role: "viewer" });
    room.remember(parseEventFrame(JSON.stringify({ seq: 4, type: "comment_deleted", commentId: "c3" }))!);
    const second = JSON.parse(room.snapshotFrame(false, null)) as { recentComments: { seq: number }[]; seq: number; you?: unknown };
    expect(second.recentComments.map((c) => c.seq)).toEqual([1, 2]);
    expect(second.seq).toBe(4);
    expect(second.you).toBeUndefined();
    expect(JSON.parse(room.snapshotFrame(true, null))).toMatchObject({ recovered: true, recentComments: [] });
  });

  it("forgets everything on an epoch reset", () => {
    const room = roomWith([1, 2]);
    room.resetEpoch("e2");
    expect(room.lastSeq).toBe(0);
    expect(room.eventsAfter(0)).toEqual([]);
    expect(JSON.parse(room.snapshotFrame(false, null))).toMatchObject({ epoch: "e2", seq: 0, recentComments: [] });
  });

  it("expires mutes by time", () => {
    const room = roomWith([]);
    room.setMute("u1", 1000);
    expect(room.isMuted("u1", 999)).toBe(true);
    expect(room.isMuted("u1", 1000)).toBe(false);
    expect(room.muted.has("u1")).toBe(false);
  });
});
