import type { Bubble, Countdown, FlashSale, GroupProgress, LiveCoupon, Pin, RoomState, ScheduledBubble } from "../../protocol/messages.js";

/** A room's state before anything was set (the protocol's, which clients hold before a snapshot). */
export { emptyRoomState } from "../../protocol/client.js";

/** One state field as a stored string: "" for null (the field is removed), strings as they are, the rest as JSON. */
export function encodeStateValue(value: RoomState[keyof RoomState]): string {
  return value === null ? "" : typeof value === "string" ? value : JSON.stringify(value);
}

function parseJson<T>(raw: string | undefined): T | null {
  if (!raw) return null;
  try {
    return JSON.parse(raw) as T;
  } catch {
    return null;
  }
}

/** The room's state from its stored fields; a missing or unreadable field has its empty value. */
export function decodeState(h: Record<string, string>): RoomState {
  const status = (["idle", "live", "ended"] as const).find((s) => s === h.status) ?? "idle";
  return {
    status,
    bubble: parseJson<Bubble>(h.bubble),
    pinned: parseJson<Pin>(h.pinned),
    slowModeSec: Number(h.slowModeSec ?? 0) || 0,
    flashSale: parseJson<FlashSale>(h.flashSale),
    upcoming: parseJson<ScheduledBubble[]>(h.upcoming) ?? [],
    countdown: parseJson<Countdown>(h.countdown),
    coupon: parseJson<LiveCoupon>(h.coupon),
    groups: parseJson<GroupProgress[]>(h.groups) ?? [],
  };
}
