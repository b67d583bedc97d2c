import { z } from "zod";
import type { Db } from "../db/client.js";
import { GROUP_FLOWS } from "../db/groups.schema.js";
import { catalogRepo } from "../catalog/catalog.repo.js";
import type { Activities } from "../groups/activities.service.js";
import { openGroupsOfActivity, openGroupsOfProduct } from "../groups/group-progress.js";
import type { Groups } from "../groups/groups.service.js";
import { Order } from "../orders/orders.dto.js";
import { AppError } from "../protocol/errors.js";
import { GroupProgress } from "../protocol/messages.js";
import type { Api } from "./api.js";
import { PaymentParams } from "./payments.routes.js";

const id = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/);
const IdParams = z.object({ id });
const fen = z.number().int().min(1).max(100_000_000);
const Terms = {
  groupSize: z.number().int().min(2).max(100),
  groupPriceFen: fen,
  windowSec: z.number().int().min(60).max(7 * 24 * 3600),
  /** leader_pays: a group opens when its leader pays; join_first: members join, everyone pays once it is full (seed 003). */
  flow: z.enum(GROUP_FLOWS),
  perUserLimit: z.number().int().min(1).max(100),
  simulateOnExpiry: z.boolean(),
};
const ActivityInput = z.object({
  productId: id,
  skuId: id.optional(),
  streamId: id.optional(),
  ...Terms,
  windowSec: Terms.windowSec.default(24 * 3600),
  flow: Terms.flow.default("leader_pays"),
  perUserLimit: Terms.perUserLimit.default(1),
  simulateOnExpiry: Terms.simulateOnExpiry.default(false),
});
const ActivityPatch = z.object({
  groupSize: Terms.groupSize.optional(),
  groupPriceFen: Terms.groupPriceFen.optional(),
  windowSec: Terms.windowSec.optional(),
  flow: Terms.flow.optional(),
  perUserLimit: Terms.perUserLimit.optional(),
  simulateOnExpiry: Terms.simulateOnExpiry.optional(),
});
const Activity = z.object({
  id: z.string(),
  productId: z.string(),
  skuId: z.string(),
  streamId: z.string().nullable(),
  groupSize: z.number(),
  groupPriceFen: z.number(),
  windowSec: z.number(),
  flow: z.enum(GROUP_FLOWS),
  perUserLimit: z.number(),
  simulateOnExpiry: z.boolean(),
  status: z.enum(["active", "ended"]),
  createdAt: z.string(),
});
/** `payBy`: the end of this member's payment window while the place is unpaid and may be paid (join_first: once the group is full). */
const Participant = z.object({ userId: z.string(), nickname: z.string(), leader: z.boolean(), paid: z.boolean(), joinedAt: z.string(), payBy: z.string().nullable() });
const Place = z.object({ addressId: id.optional() });
const Placed = z.object({ group: GroupProgress, order: Order });
const MyGroup = z.object({
  group: GroupProgress,
  productName: z.string(),
  productImage: z.string(),
  orderId: z.string(),
  orderStatus: z.string(),
  payBy: z.string().nullable(),
  leader: z.boolean(),
});
/** Seed 003's group page reads these names. */
const SeedGroup = z.object({
  id: z.string(),
  groupId: z.string(),
  status: z.string(),
  participants: z.array(Participant),
  maxParticipants: z.number(),
  creatorId: z.string(),
  endTime: z.string(),
  productId: z.string(),
  productName: z.string(),
  productImage: z.string(),
  groupPriceFen: z.number(),
  price: z.number(),
  canJoin: z.boolean(),
  progress: GroupProgress,
});

/** Group buying: admin activities; open, join, pay, watch; seed 003's group page calls. */
export function groupsRoutes(api: Api, deps: { db: Db; groups: Groups; activities: Activities }) {
  const { groups, activities } = deps;

  api.route({ method: "post", path: "/v1/admin/group-activities", summary: "Create a group-buy activity", tag: "groups", auth: "admin", body: ActivityInput, response: Activity, status: 201 }, ({ user, body }) =>
    activities.create(user!, body),
  );
  api.route({ method: "patch", path: "/v1/admin/group-activities/:id", summary: "Change an activity's terms (for groups opened later)", tag: "groups", auth: "admin", params: IdParams, body: ActivityPatch, response: Activity }, ({ params, body }) =>
    activities.update(params.id, body),
  );
  api.route({ method: "post", path: "/v1/admin/group-activities/:id/end", summary: "End an activity: no new groups", tag: "groups", auth: "admin", params: IdParams, response: Activity }, ({ params }) =>
    activities.end(params.id),
  );
  api.route(
    {
      method: "post",
      path: "/v1/admin/groups/:id/complete",
      summary: "Complete an open group with simulated members (audited)",
      tag: "groups",
      auth: "admin",
      params: IdParams,
      body: z.object({ reason: z.string().trim().min(1).max(200) }),
      response: GroupProgress,
    },
    ({ user, params, body }) => groups.simulateComplete(user!, params.id, body.reason),
  );
  api.route(
    {
      method: "get",
      path: "/v1/group-activities",
      summary: "Group-buy activities",
      tag: "groups",
      auth: "public",
      query: z.object({ productId: id.optional(), streamId: id.optional(), status: z.enum(["active", "ended"]).optional() }),
      response: z.array(Activity),
    },
    ({ query }) => activities.list(query),
  );
  api.route(
    { method: "get", path: "/v1/group-activities/:id", summary: "An activity and its open groups", tag: "groups", auth: "public", params: IdParams, response: z.object({ activity: Activity, openGroups: z.array(GroupProgress) }) },
    async ({ params }) => ({ activity: await activities.get(params.id), openGroups: await openGroupsOfActivity(deps.db, params.id) }),
  );
  api.route(
    { method: "get", path: "/v1/products/:id/groups", summary: "Open groups of a product, newest first", tag: "groups", auth: "public", params: IdParams, response: z.array(GroupProgress) },
    ({ params }) => openGroupsOfProduct(deps.db, params.id),
  );
  api.route(
    { method: "post", path: "/v1/group-activities/:id/groups", summary: "Open a group as its leader (leader_pays: it opens when paid; join_first: open now)", tag: "groups", auth: "user", params: IdParams, body: Place, response: Placed, status: 201, rateLimit: "orders" },
    ({ user, params, body, headers }) => groups.open(user!.userId, params.id, { ...body, requestKey: headers["idempotency-key"] }),
  );
  api.route({ method: "get", path: "/v1/groups/:id", summary: "A group: progress, members, whether I can join", tag: "groups", auth: "public", params: IdParams, response: z.object({ group: GroupProgress, participants: z.array(Participant), canJoin: z.boolean() }) }, async ({ user, params }) => {
    const d = await groups.detail(params.id, user?.userId ?? null);
    return { group: d.progress, participants: d.participants, canJoin: d.canJoin };
  });
  api.route({ method: "get", path: "/v1/me/groups", summary: "My group-buy places, newest first (ended groups too)", tag: "groups", auth: "user", response: z.array(MyGroup) }, ({ user }) => groups.mine(user!.userId));
  api.route(
    { method: "post", path: "/v1/groups/:id/join", summary: "Take a place (held until paid)", tag: "groups", auth: "user", params: IdParams, body: Place, response: Placed.extend({ complete: z.boolean() }), rateLimit: "orders" },
    ({ user, params, body, headers }) => groups.join(user!.userId, params.id, { ...body, requestKey: headers["idempotency-key"] }),
  );
  api.route({ method: "post", path: "/v1/groups/:id/pay", summary: "wx.requestPayment parameters for my place (join_first: GROUP_NOT_FULL until it is full)", tag: "groups", auth: "user", params: IdParams, response: PaymentParams }, ({ user, params }) =>
    groups.pay(user!.userId, params.id),
  );

  // ---- seed 003's group page ----
  api.route({ method: "get", path: "/api/group-buy/:id", summary: "Seed: a group", tag: "seed", auth: "public", params: IdParams, response: SeedGroup }, async ({ user, params }) => {
    const d = await groups.detail(params.id, user?.userId ?? null);
    const product = await catalogRepo.getProduct(deps.db, d.g.productId, true);
    return {
      id: d.g.id,
      groupId: d.g.id,
      status: d.g.status,
      participants: d.participants,
      maxParticipants: d.g.size,
      creatorId: d.g.leaderUserId,
      endTime: new Date(d.progress.endsAt).toISOString(),
      productId: d.g.productId,
      productName: product.name,
      productImage: product.pictures[0] ?? "",
      groupPriceFen: d.g.priceFen,
      price: d.g.priceFen / 100,
      canJoin: d.canJoin,
      progress: d.progress,
    };
  });
  api.route(
    {
      method: "post",
      path: "/api/group-buy/create",
      summary: "Seed: open a group for a product (size, window and flow come from its activity)",
      tag: "seed",
      auth: "user",
      body: z.object({ productId: id, activityId: id.optional(), addressId: id.optional() }),
      response: Placed.extend({ groupId: z.string(), orderId: z.string() }),
      status: 201,
      rateLimit: "orders",
    },
    async ({ user, body, headers }) => {
      const [a] = body.activityId ? [await activities.get(body.activityId)] : await activities.list({ productId: body.productId, status: "active" });
      if (!a || a.productId !== body.productId) throw new AppError("NOT_FOUND", "No group-buy activity for this product.");
      const placed = await groups.open(user!.userId, a.id, { addressId: body.addressId, requestKey: headers["idempotency-key"] });
      return { ...placed, groupId: placed.group.id, orderId: placed.order.id };
    },
  );
  api.route(
    {
      method: "post",
      path: "/api/group-buy/:id/join",
      summary: "Seed: take a place; groupComplete when it was the last one (pay next)",
      tag: "seed",
      auth: "user",
      params: IdParams,
      body: Place,
      response: Placed.extend({ success: z.boolean(), groupComplete: z.boolean(), orderId: z.string(), holdUntil: z.string() }),
      rateLimit: "orders",
    },
    async ({ user, params, body, headers }) => {
      const r = await groups.join(user!.userId, params.id, { ...body, requestKey: headers["idempotency-key"] });
      return { ...r, success: true, groupComplete: r.complete, orderId: r.order.id, holdUntil: r.order.payDeadline };
    },
  );
  api.route({ method: "post", path: "/api/group-buy/:id/payment", summary: "Seed: wx.requestPayment parameters for my place", tag: "seed", auth: "user", params: IdParams, response: PaymentParams }, ({ user, params }) =>
    groups.pay(user!.userId, params.id),
  );
}
