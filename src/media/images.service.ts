import { createHash } from "node:crypto";
import type { Db } from "../db/client.js";
import { images } from "../db/catalog.schema.js";
import { AppError } from "../protocol/errors.js";
import { CONTENT_TYPES, probeImage } from "./image-probe.js";
import type { ImageStore } from "./images.store.js";

/** Largest width and height we keep (pictures are shown on phones). */
export const MAX_IMAGE_SIDE = 4096;

export interface StoredImage {
  id: string;
  /** Root-relative (`/images/<sha256>.<ext>`); responses make it absolute when a base URL is set. */
  url: string;
  contentType: string;
  bytes: number;
  width: number;
  height: number;
}

/**
 * Uploaded images: checked by their bytes (type, size, dimensions), stored once per content hash
 * (file first, then its row), served immutable at their URL.
 */
export function createImages(deps: { db: Db; store: ImageStore; maxBytes: number }) {
  const { db, store } = deps;

  async function save(bytes: Buffer, uploadedBy: string): Promise<StoredImage> {
    if (bytes.length > deps.maxBytes) throw new AppError("PAYLOAD_TOO_LARGE", `An image may be at most ${deps.maxBytes} bytes.`, { maxBytes: deps.maxBytes });
    const info = probeImage(bytes);
    if (!info) throw new AppError("UNSUPPORTED_MEDIA_TYPE");
    if (info.width > MAX_IMAGE_SIDE || info.height > MAX_IMAGE_SIDE) {
      throw new AppError("INVALID_PARAMS", `An image may be at most ${MAX_IMAGE_SIDE}×${MAX_IMAGE_SIDE} pixels.`, {
        width: info.width,
        height: info.height,
        max: MAX_IMAGE_SIDE,
      });
    }
    const id = createHash("sha256").update(bytes).digest("hex");
    const name = `${id}.${info.ext}`;
    await store.put(name, bytes);
    await db
      .insert(images)
      .values({ id, contentType: info.contentType, bytes: bytes.length, width: info.width, height: info.height, uploadedBy })
      .onConflictDoNothing();
    return { id, url: `/images/${name}`, contentType: info.contentType, bytes: bytes.length, width: info.width, height: info.height };
  }

  /** A stored file for `GET /images/<name>`, or null (unknown, or not a stored name at all). */
  async function open(name: string) {
    const bytes = await store.get(name);
    if (!bytes) return null;
    const ext = name.slice(name.lastIndexOf(".") + 1) as keyof typeof CONTENT_TYPES;
    return { bytes, contentType: CONTENT_TYPES[ext], etag: `"${name.slice(0, name.lastIndexOf("."))}"` };
  }

  return { save, open };
}

export type Images = ReturnType<typeof createImages>;
