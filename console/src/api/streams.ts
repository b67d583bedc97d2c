import { call } from "./http";
import { ROUTES } from "./paths";
import type { ProductSummary, PublishKey, StreamInfo } from "./types";

/** Streams I host (every stream for an admin). */
export const myStreams = () => call<StreamInfo[]>(ROUTES.myStreams);
export const getStream = (id: string) => call<{ stream: StreamInfo; products: ProductSummary[] }>(ROUTES.stream, { id });
/** Admins create a stream for a host; the answer carries the publish key, shown once. */
export const createStream = (title: string, hostUserId?: string) =>
  call<StreamInfo & PublishKey>(ROUTES.createStream, {}, { body: { title, hostUserId } });
export interface StreamPatch {
  title?: string;
  /** An uploaded image's path or an http(s) URL; "" removes the cover. */
  coverUrl?: string;
  /** ISO 8601 with a zone; null clears it. */
  scheduledAt?: string | null;
}
/** Title, cover and schedule (the host or an admin). */
export const updateStream = (id: string, patch: StreamPatch) => call<StreamInfo>(ROUTES.updateStream, { id }, { body: patch });
/** A new publish key; the old one stops working at once. */
export const rotateKey = (id: string) => call<PublishKey>(ROUTES.rotateKey, { id });
export const setStreamProducts = (id: string, productIds: string[]) => call<ProductSummary[]>(ROUTES.setStreamProducts, { id }, { body: { productIds } });
