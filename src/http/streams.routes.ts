import { z } from "zod";
import { ProductSummary } from "../catalog/catalog.dto.js";
import type { Streams } from "../live/streams.service.js";
import { ImageUrl } from "../media/image-url.js";
import type { Api } from "./api.js";

const id = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/);
const IdParams = z.object({ id });
const StreamInfo = z.object({
  id: z.string(),
  title: z.string(),
  status: z.enum(["idle", "live", "ended"]),
  hostId: z.string(),
  hostName: z.string(),
  /** Poster for lists and `live-player` before it plays; "" for none. */
  coverUrl: z.string(),
  /** When the host plans to go live (ISO), or null. */
  scheduledAt: z.string().nullable(),
  /** When it last went live, and when it last ended (ISO), or null. */
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  /** The room's live counts, as the hub keeps them (0 when nobody watches). */
  viewerCount: z.number(),
  likeCount: z.number(),
  createdAt: z.string(),
  flvUrl: z.string().nullable(),
});
const StreamQuery = z.object({
  /** live: most viewers first; upcoming: idle, soonest scheduledAt first, then unscheduled; ended: newest end first; idle or none: newest first. */
  status: z.enum(["live", "upcoming", "ended", "idle"]).optional(),
  page: z.coerce.number().int().min(1).max(10_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(100).default(20),
});
const StreamPatch = z.object({
  title: z.string().trim().min(1).max(120).optional(),
  coverUrl: z.union([ImageUrl, z.literal("")]).optional(),
  /** ISO 8601 with a zone (e.g. 2025-06-01T20:00:00+08:00); null clears it. */
  scheduledAt: z.iso.datetime({ offset: true }).nullable().optional(),
});
/** The publish URL is `${rtmpUrl}?key=${streamKey}` (OBS: server `…/live`, stream key `<id>?key=<streamKey>`). */
const PublishKey = z.object({ streamKey: z.string(), rtmpUrl: z.string().nullable() });
const StreamWithKey = StreamInfo.extend(PublishKey.shape);
const StreamDetail = z.object({ stream: StreamInfo, products: z.array(ProductSummary) });

/** Live streams: create (the caller hosts), the publish key, attached products; seed 003's stream page call. */
export function streamsRoutes(api: Api, streams: Streams) {
  api.route(
    {
      method: "post",
      path: "/v1/streams",
      summary: "Create a live stream for a host (admins only); returns the publish key once",
      tag: "live",
      auth: "user",
      body: z.object({ title: z.string().trim().min(1).max(120), hostUserId: id.optional() }),
      response: StreamWithKey,
      status: 201,
    },
    ({ user, body }) => streams.create(user!, body),
  );
  api.route(
    { method: "get", path: "/v1/streams", summary: "Streams by status, a page at a time (live now, coming up, ended)", tag: "live", auth: "public", query: StreamQuery, response: z.array(StreamInfo) },
    ({ query }) => streams.list(query),
  );
  api.route(
    { method: "patch", path: "/v1/streams/:id", summary: "Change a stream's title, cover or schedule (its host or an admin)", tag: "live", auth: "user", params: IdParams, body: StreamPatch, response: StreamInfo },
    ({ user, params, body }) => streams.update(user!, params.id, body),
  );
  api.route(
    { method: "get", path: "/v1/streams/mine", summary: "Streams I host, newest first (every stream for an admin)", tag: "live", auth: "user", response: z.array(StreamInfo) },
    ({ user }) => streams.mine(user!),
  );
  api.route({ method: "get", path: "/v1/streams/:id", summary: "A stream and the products it sells", tag: "live", auth: "public", params: IdParams, response: StreamDetail }, async ({ params }) => ({
    stream: await streams.info(params.id),
    products: await streams.products(params.id),
  }));
  api.route(
    { method: "post", path: "/v1/streams/:id/key", summary: "Rotate the publish key (the old one stops working; an encoder live with it is disconnected)", tag: "live", auth: "user", params: IdParams, response: PublishKey.extend({ id: z.string() }) },
    ({ user, params }) => streams.rotateKey(user!, params.id),
  );
  api.route(
    {
      method: "put",
      path: "/v1/streams/:id/products",
      summary: "Set the products a stream sells, in order",
      tag: "live",
      auth: "user",
      params: IdParams,
      body: z.object({ productIds: z.array(id).max(200) }),
      response: z.array(ProductSummary),
    },
    ({ user, params, body }) => streams.setProducts(user!, params.id, body.productIds),
  );
  // Seed 003's live page: res.data.stream (status === 'live') and res.data.products.
  api.route({ method: "get", path: "/api/live-stream/:id", summary: "Seed: stream info and products", tag: "seed", auth: "public", params: IdParams, response: StreamDetail }, async ({ params }) => ({
    stream: await streams.info(params.id),
    products: await streams.products(params.id),
  }));
}
