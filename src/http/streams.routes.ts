import { z } from "zod";
import { ProductSummary } from "../catalog/catalog.dto.js";
import type { Streams } from "../live/streams.service.js";
import type { Api } from "./api.js";

const id = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/);
const IdParams = z.object({ id });
const StreamInfo = z.object({ id: z.string(), title: z.string(), status: z.enum(["idle", "live", "ended"]), hostId: z.string(), hostName: z.string(), createdAt: z.string(), flvUrl: z.string().nullable() });
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
    { method: "get", path: "/v1/streams", summary: "Streams, newest first", tag: "live", auth: "public", query: z.object({ status: z.enum(["idle", "live", "ended"]).optional() }), response: z.array(StreamInfo) },
    ({ query }) => streams.list(query.status),
  );
  api.route({ method: "get", path: "/v1/streams/:id", summary: "A stream and the products it sells", tag: "live", auth: "public", params: IdParams, response: StreamDetail }, async ({ params }) => ({
    stream: await streams.info(params.id),
    products: await streams.products(params.id),
  }));
  api.route(
    { method: "post", path: "/v1/streams/:id/key", summary: "Rotate the publish key (the old one stops working)", tag: "live", auth: "user", params: IdParams, response: PublishKey.extend({ id: z.string() }) },
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
