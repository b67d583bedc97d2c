import { call } from "./http";
import { ROUTES } from "./paths";
import type { FlashSaleInfo } from "./types";

export interface StartFlash {
  skuId: string;
  priceFen: number;
  quantity: number;
  perUserLimit: number;
  durationSec: number;
}

export const startFlash = (streamId: string, input: StartFlash) => call<FlashSaleInfo>(ROUTES.startFlash, { id: streamId }, { body: input });
export const streamFlashSales = (streamId: string) => call<FlashSaleInfo[]>(ROUTES.streamFlashSales, { id: streamId });
export const endFlash = (id: string) => call<FlashSaleInfo>(ROUTES.endFlash, { id });
