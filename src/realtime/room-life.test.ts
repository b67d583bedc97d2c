import { describe, expect, it } from "vitest";
import type { RoomMessage } from "./broker/broker.js";
import { ROOM_LIFE, RoomLife, type RoomLifeEvent } from "./room-life.js";

const msg = (n: number): RoomMessage => ({ kind: "mute", userId: `u${n}`, until: n });
const drain = (life: RoomLife) => {
  const out: RoomMessage[] = [];
  for (let m = life.nextHeld(); m; m = life.nextHeld()) out.push(m);
  return out;
};

describe("RoomLife", () => {
  it("goes opening → live → filling → live → resyncing → live → closed, holding messages while not live", () => {
    const life = new RoomLife();
    expect(life.hold(msg(1))).toBe(true);
    expect(life.usable).toBe(false);
    expect(life.on("loaded")).toBe("live");
    expect(life.usable).toBe(true);
    expect(drain(life)).toEqual([msg(1)]);
    expect(life.hold(msg(2))).toBe(false);
    expect(life.on("gap")).toBe("filling");
    life.hold(msg(3));
    life.holdFirst(msg(2));
    expect(life.nextHeld()).toBeUndefined();
    expect(life.on("filled")).toBe("live");
    expect(drain(life)).toEqual([msg(2), msg(3)]);
    expect(life.on("resync")).toBe("resyncing");
    expect(life.on("resync")).toBe("resyncing");
    expect(life.on("resynced")).toBe("live");
    life.on("gap");
    life.hold(msg(4));
    expect(life.on("close")).toBe("closed");
    expect(life.hold(msg(5))).toBe(true);
    expect(drain(life)).toEqual([]);
  });

  it("runs a resync asked for during a gap fill once the gap is filled", () => {
    const life = new RoomLife();
    life.on("loaded");
    life.on("gap");
    expect(life.on("resync")).toBe("filling");
    expect(life.on("filled")).toBe("resyncing");
    expect(life.on("resynced")).toBe("live");
    life.on("gap");
    expect(life.on("filled")).toBe("live");
  });

  it("refuses what its table does not list, and lets work in flight end into a closed room", () => {
    const life = new RoomLife();
    expect(() => life.on("gap")).toThrow(/no "gap" in phase opening/);
    expect(() => life.on("filled")).toThrow();
    life.on("close");
    for (const event of Object.keys(ROOM_LIFE.closed) as RoomLifeEvent[]) expect(life.on(event)).toBe("closed");
  });

  it("returns the previous counts position each time", () => {
    const life = new RoomLife();
    expect(life.reported({ epoch: "e", seq: 1 })).toBeNull();
    expect(life.reported({ epoch: "e", seq: 5 })).toEqual({ epoch: "e", seq: 1 });
  });
});
