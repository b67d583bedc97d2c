import type { Ban, BanInput } from "./api/types";
import { dateTime } from "./format";

/** A ban form's state; `durationSec` 0 is "until lifted". */
export interface BanDraft {
  durationSec: number;
  reason: string;
}

export const BAN_DURATIONS = [
  { label: "1 小时", value: 3600 },
  { label: "1 天", value: 86_400 },
  { label: "7 天", value: 7 * 86_400 },
  { label: "30 天", value: 30 * 86_400 },
  { label: "直到解除", value: 0 },
] as const;

export const newBanDraft = (): BanDraft => ({ durationSec: 86_400, reason: "" });

/** The server's BanInput for a draft. */
export const banInput = (d: BanDraft): BanInput => ({ reason: d.reason.trim(), ...(d.durationSec ? { durationSec: d.durationSec } : {}) });

/** When a ban ends, as the lists show it. */
export const banUntil = (b: Ban) => (b.expiresAt === null ? "直到解除" : dateTime(b.expiresAt));
