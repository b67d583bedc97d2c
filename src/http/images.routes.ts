import { z } from "zod";
import type { Images } from "../media/images.service.js";
import { AppError } from "../protocol/errors.js";
import type { Api } from "./api.js";
import type { Router } from "../uws/router.js";

/** What an upload answers (201). */
export const StoredImage = z.object({
  id: z.string(),
  url: z.string(),
  contentType: z.string(),
  bytes: z.number(),
  width: z.number(),
  height: z.number(),
});

/** A stored image's bytes never change under its URL (the name is their hash). */
const IMMUTABLE = "public, max-age=31536000, immutable";

/** Admin image uploads (product pictures, banners, stream covers) and serving every stored image. */
export function imagesRoutes(api: Api, router: Router, deps: { images: Images; maxBytes: number }) {
  const { images } = deps;
  api.route(
    {
      method: "post",
      path: "/v1/admin/images",
      summary: "Upload an image (PNG, JPEG or WebP; multipart field `file`); use its url in pictures, banners and covers",
      tag: "admin",
      auth: "admin",
      upload: { field: "file", maxBytes: deps.maxBytes },
      rateLimit: "uploads",
      response: StoredImage,
      status: 201,
    },
    ({ user, file }) => images.save(file!.bytes, user!.userId),
  );

  router.get("/images/:name", async (ctx) => {
    const file = await images.open(ctx.params[0] ?? "");
    if (!file) throw new AppError("NOT_FOUND", "No such image.");
    const headers = { "cache-control": IMMUTABLE, etag: file.etag, "x-content-type-options": "nosniff" };
    const ifNoneMatch = ctx.headers["if-none-match"];
    if (ifNoneMatch && ifNoneMatch.split(",").some((t) => t.trim().replace(/^W\//, "") === file.etag || t.trim() === "*")) {
      return { status: 304, headers };
    }
    return { status: 200, body: file.bytes, contentType: file.contentType, headers };
  });
}
