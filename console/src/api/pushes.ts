import { call } from "./http";
import { ROUTES } from "./paths";
import type { ScheduledPush } from "./types";

export interface SchedulePush {
  productId: string;
  /** Epoch ms. */
  at: number;
  countdownSec: number;
  title?: string;
  priceFen?: number;
  imageUrl?: string;
}

export const schedulePush = (streamId: string, input: SchedulePush) => call<ScheduledPush>(ROUTES.schedulePush, { id: streamId }, { body: input });
export const streamPushes = (streamId: string, status?: ScheduledPush["status"]) => call<ScheduledPush[]>(ROUTES.streamPushes, { id: streamId }, { query: { status } });
export const movePush = (id: string, at: number, countdownSec?: number) => call<ScheduledPush>(ROUTES.movePush, { id }, { body: { at, countdownSec } });
export const cancelPush = (id: string) => call<ScheduledPush>(ROUTES.cancelPush, { id });
