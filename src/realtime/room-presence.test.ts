import { describe, expect, it } from "vitest";
import type { RoomClient } from "./client.js";
import { RoomPresence } from "./room-presence.js";

const client = (userId: string | null) => ({ identity: userId ? { userId, username: userId, admin: false } : null }) as RoomClient;
const counts = (resend = false) => ({ viewers: 0, likes: 0, epoch: "e", seq: 0, resend });

describe("RoomPresence", () => {
  it("reports people once however many sockets, anonymous sockets each; changes only after the first report", () => {
    const p = new RoomPresence(0);
    const [ann1, ann2, bob, anon] = [client("ann"), client("ann"), client("bob"), client(null)];
    for (const c of [ann1, ann2, bob, anon]) p.add(c);
    p.addLikes(3);
    const first = p.takeReport("n", 3000);
    expect(first).toEqual({ nodeId: "n", full: true, joined: ["ann", "bob"], left: [], anonymous: 1, staleAfterMs: 3000, likes: 3, comments: 0 });
    p.reported(first, counts());
    p.remove(ann1, 10);
    p.remove(bob, 10);
    p.add(client("cy"));
    expect(p.takeReport("n", 3000)).toMatchObject({ full: false, joined: ["cy"], left: ["bob"], anonymous: 1, likes: 0 });
    expect(p.remove(bob, 10)).toBe(false);
    expect(p.size).toBe(3);
  });

  it("sends a failed report's changes, likes and comments again with the next; everyone when the broker asks", () => {
    const p = new RoomPresence(0);
    const [ann, bob] = [client("ann"), client("bob")];
    p.add(ann);
    p.reported(p.takeReport("n", 1), counts());
    p.add(bob);
    p.addLikes(2);
    p.addComments(1);
    const failed = p.takeReport("n", 1);
    p.remove(bob, 5);
    p.add(client("cy"));
    p.reported(failed, null);
    // Bob left after the failed report: the newer change wins.
    expect(p.takeReport("n", 1)).toMatchObject({ full: false, joined: ["cy"], left: ["bob"], likes: 2, comments: 1 });
    const asked = p.takeReport("n", 1);
    p.reported(asked, counts(true));
    expect(p.takeReport("n", 1)).toMatchObject({ full: true, joined: ["ann", "cy"] });
  });

  it("reports in full after a report with nobody here, and knows how long it has been empty", () => {
    const p = new RoomPresence(100);
    expect(p.emptyFor(150)).toBe(50);
    const c = client(null);
    p.add(c);
    expect(p.emptyFor(150)).toBe(0);
    p.remove(c, 200);
    p.reported(p.takeReport("n", 1), counts());
    p.add(client("ann"));
    expect(p.takeReport("n", 1)).toMatchObject({ full: true, joined: ["ann"] });
    expect(p.finalReport("n")).toMatchObject({ full: true, joined: [], anonymous: 0 });
  });
});
