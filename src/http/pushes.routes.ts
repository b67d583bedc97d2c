import { z } from "zod";
import { ImageUrl } from "../media/image-url.js";
import type { Pushes } from "../live/pushes.service.js";
import { ScheduledBubble } from "../protocol/messages.js";
import type { Api } from "./api.js";

const id = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/);
const IdParams = z.object({ id });
/** A moment: ISO 8601 with an offset, or epoch milliseconds. */
const At = z.union([z.iso.datetime({ offset: true }), z.number().int().min(0).max(8.64e15)]).transform((v) => new Date(v));
const countdownSec = z.number().int().min(0).max(3600);
const ScheduledPush = ScheduledBubble.extend({
  streamId: z.string(),
  status: z.enum(["scheduled", "fired", "cancelled"]),
  createdAt: z.string(),
  firedAt: z.string().nullable(),
});

/** Scheduled product pushes: the host plans bubbles ahead, moves and cancels them. */
export function pushesRoutes(api: Api, pushes: Pushes) {
  api.route(
    {
      method: "post",
      path: "/v1/streams/:id/pushes",
      summary: "Schedule a product bubble in my stream (with an optional 'starts in' countdown)",
      tag: "live",
      auth: "user",
      params: IdParams,
      body: z.object({
        productId: id,
        at: At,
        countdownSec: countdownSec.default(0),
        title: z.string().trim().min(1).max(200).optional(),
        priceFen: z.number().int().min(0).max(1_000_000_000).optional(),
        imageUrl: ImageUrl.optional(),
      }),
      response: ScheduledPush,
      status: 201,
    },
    ({ user, params, body }) => pushes.create(user!, params.id, body),
  );
  api.route(
    {
      method: "get",
      path: "/v1/streams/:id/pushes",
      summary: "My stream's scheduled pushes, soonest first",
      tag: "live",
      auth: "user",
      params: IdParams,
      query: z.object({ status: z.enum(["scheduled", "fired", "cancelled"]).optional() }),
      response: z.array(ScheduledPush),
    },
    ({ user, params, query }) => pushes.list(user!, params.id, query.status),
  );
  api.route(
    {
      method: "patch",
      path: "/v1/pushes/:id",
      summary: "Move a scheduled push to another time",
      tag: "live",
      auth: "user",
      params: IdParams,
      body: z.object({ at: At, countdownSec: countdownSec.optional() }),
      response: ScheduledPush,
    },
    ({ user, params, body }) => pushes.move(user!, params.id, body),
  );
  api.route(
    { method: "del", path: "/v1/pushes/:id", summary: "Cancel a scheduled push", tag: "live", auth: "user", params: IdParams, response: ScheduledPush },
    ({ user, params }) => pushes.cancel(user!, params.id),
  );
}
