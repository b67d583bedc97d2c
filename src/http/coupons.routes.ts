import { z } from "zod";
import { CouponClaim, CouponDetail, CouponLimits, CouponLimitsInput, DropCoupon } from "../coupons/coupons.dto.js";
import type { Coupons } from "../coupons/coupons.service.js";
import type { Api } from "./api.js";

const id = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/);
const IdParams = z.object({ id });

/** Live coupons: the host drops and ends them; viewers claim one each and use it at checkout. */
export function couponsRoutes(api: Api, coupons: Coupons) {
  api.route(
    { method: "post", path: "/v1/streams/:id/coupons", summary: "Drop a coupon into my stream's room", tag: "live", auth: "user", params: IdParams, body: DropCoupon, response: CouponDetail, status: 201 },
    ({ user, params, body }) => coupons.drop(user!, params.id, body),
  );
  api.route(
    { method: "get", path: "/v1/streams/:id/coupons", summary: "My stream's coupons, newest first (claimed = quantity - left)", tag: "live", auth: "user", params: IdParams, response: z.array(CouponDetail) },
    ({ user, params }) => coupons.listOfStream(user!, params.id),
  );
  api.route(
    { method: "get", path: "/v1/streams/:id/coupon-limits", summary: "My stream's coupon limits (most off per coupon, most drops) and drops so far", tag: "live", auth: "user", params: IdParams, response: CouponLimits },
    ({ user, params }) => coupons.limits(user!, params.id),
  );
  api.route(
    {
      method: "put",
      path: "/v1/admin/streams/:id/coupon-limits",
      summary: "Set a stream's coupon limits: the most one coupon takes off, and how many it may drop",
      tag: "admin",
      auth: "admin",
      params: IdParams,
      body: CouponLimitsInput,
      response: CouponLimits,
    },
    ({ user, params, body }) => coupons.setLimits(user!, params.id, body),
  );
  api.route(
    { method: "post", path: "/v1/coupons/:id/end", summary: "Stop claims of a coupon (claimed ones stay usable until expiry)", tag: "live", auth: "user", params: IdParams, response: CouponDetail },
    ({ user, params }) => coupons.end(user!, params.id),
  );
  api.route(
    { method: "get", path: "/v1/coupons/:id", summary: "A coupon and how many are left", tag: "live", auth: "public", params: IdParams, response: CouponDetail },
    ({ params }) => coupons.get(params.id),
  );
  api.route(
    {
      method: "post",
      path: "/v1/coupons/:id/claim",
      summary: "Claim a live coupon (one each, never more than its quantity; claiming again answers the same claim)",
      tag: "live",
      auth: "user",
      params: IdParams,
      response: CouponClaim,
    },
    ({ user, params }) => coupons.claim(user!.userId, params.id),
  );
  api.route(
    { method: "get", path: "/v1/me/coupons", summary: "My claimed coupons not yet used or expired", tag: "live", auth: "user", response: z.array(CouponClaim) },
    ({ user }) => coupons.mine(user!.userId),
  );
}
