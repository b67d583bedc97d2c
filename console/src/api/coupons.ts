import { call } from "./http";
import { ROUTES } from "./paths";
import type { CouponInfo, CouponLimits } from "./types";

export interface DropCoupon {
  title: string;
  discountFen: number;
  minSpendFen: number;
  quantity: number;
  durationSec: number;
}

export const dropCoupon = (streamId: string, input: DropCoupon) => call<CouponInfo>(ROUTES.dropCoupon, { id: streamId }, { body: input });
export const streamCoupons = (streamId: string) => call<CouponInfo[]>(ROUTES.streamCoupons, { id: streamId });
export const endCoupon = (id: string) => call<CouponInfo>(ROUTES.endCoupon, { id });
/** The stream's limits and drops so far (its host or an admin). */
export const couponLimits = (streamId: string) => call<CouponLimits>(ROUTES.couponLimits, { id: streamId });
/** Admins set a stream's own limits; drops already made stay. */
export const setCouponLimits = (streamId: string, limits: { maxDiscountFen: number; maxDrops: number }) =>
  call<CouponLimits>(ROUTES.setCouponLimits, { id: streamId }, { body: limits });
