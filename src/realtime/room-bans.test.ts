import { describe, expect, it } from "vitest";
import { createLogger } from "../log.js";
import { CLOSE_CODES } from "../protocol/errors.js";
import type { RoomClient } from "./client.js";
import { RoomBans } from "./room-bans.js";

function client(userId: string | null): RoomClient & { closedWith: number | null } {
  return {
    transport: "ws",
    identity: userId ? { userId, username: userId, admin: false } : null,
    batch: false,
    role: null,
    closed: false,
    closedWith: null,
    send() {},
    startLive() {},
    close(code: number) {
      this.closed = true;
      this.closedWith = code;
    },
  };
}

const bans = () => new RoomBans(createLogger("silent", "test"));

describe("RoomBans", () => {
  it("closes the user's sockets in the banned room only, and refuses the user there", () => {
    const b = bans();
    const [inRoom, elsewhere, other] = [client("u1"), client("u1"), client("u2")];
    b.track(inRoom, "r1");
    b.track(elsewhere, "r2");
    b.track(other, "r1");
    b.apply({ kind: "ban", streamId: "r1", userId: "u1", until: null, rev: 10 });
    expect([inRoom.closedWith, elsewhere.closedWith, other.closedWith]).toEqual([CLOSE_CODES.BANNED.code, null, null]);
    expect([b.isBanned("r1", "u1"), b.isBanned("r2", "u1"), b.isBanned("r1", "u2")]).toEqual([true, false, false]);
    const late = client("u1");
    b.track(late, "r1");
    expect(late.closedWith).toBe(CLOSE_CODES.BANNED.code);
  });

  it("an everywhere ban closes every room's sockets; a kick closes one room's and leaves nothing", () => {
    const b = bans();
    const [one, two] = [client("u1"), client("u1")];
    b.track(one, "r1");
    b.track(two, "r2");
    const kicked = client("u3");
    b.track(kicked, "r1");
    b.apply({ kind: "kick", streamId: "r1", userId: "u3" });
    expect(kicked.closedWith).toBe(CLOSE_CODES.KICKED.code);
    expect(b.isBanned("r1", "u3")).toBe(false);
    b.apply({ kind: "ban", streamId: null, userId: "u1", until: null, rev: 1 });
    expect([one.closedWith, two.closedWith]).toEqual([CLOSE_CODES.BANNED.code, CLOSE_CODES.BANNED.code]);
    expect(b.isBanned("any-room", "u1")).toBe(true);
  });

  it("applies one ban's changes in revision order, however they arrive", () => {
    const b = bans();
    const rev = (ms: number) => (Date.now() + ms) * 1000; // updated_at in µs
    b.apply({ kind: "lift", streamId: "r1", userId: "u1", rev: rev(20) });
    // An older ban (announced late, or read before the lift) does not come back.
    b.apply({ kind: "ban", streamId: "r1", userId: "u1", until: null, rev: rev(10) });
    b.adoptAll([{ streamId: "r1", userId: "u1", until: null, lifted: false, rev: rev(15) }]);
    expect(b.isBanned("r1", "u1")).toBe(false);
    b.apply({ kind: "ban", streamId: "r1", userId: "u1", until: null, rev: rev(30) });
    expect(b.isBanned("r1", "u1")).toBe(true);
  });

  it("a ban with an end stops at it", () => {
    const b = bans();
    const now = Date.now();
    b.apply({ kind: "ban", streamId: "r1", userId: "u1", until: now + 1000, rev: 1 });
    expect(b.isBanned("r1", "u1", now)).toBe(true);
    expect(b.isBanned("r1", "u1", now + 1000)).toBe(false);
  });

  it("leaves anonymous sockets alone and forgets a socket once untracked", () => {
    const b = bans();
    const anonymous = client(null);
    const left = client("u1");
    b.track(anonymous, "r1");
    b.track(left, "r1");
    b.untrack(left);
    b.apply({ kind: "ban", streamId: "r1", userId: "u1", until: null, rev: 1 });
    expect([anonymous.closedWith, left.closedWith]).toEqual([null, null]);
  });
});
