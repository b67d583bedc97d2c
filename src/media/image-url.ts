import { z } from "zod";

/** The root-relative URL of an image we store: `/images/<sha256>.<ext>`. */
export const IMAGE_PATH = /^\/images\/[0-9a-f]{64}\.(?:png|jpg|webp)$/;

/** An image reference clients may store: one of our images (root-relative) or an http(s) URL elsewhere. */
export const ImageUrl = z.union([
  z.string().regex(IMAGE_PATH, "an /images/<sha256>.<ext> path or an http(s) URL"),
  z.url({ protocol: /^https?$/ }).max(1000),
]);

/**
 * Turns every root-relative image URL in a response into an absolute one under `base`
 * (IMAGE_BASE_URL or PUBLIC_BASE_URL). Only strings that are exactly one of our image paths change;
 * the value is copied, never mutated. With no base, responses keep root-relative URLs, which
 * clients resolve against their own base URL.
 */
export function imageUrlResolver(base: string | null): <T>(value: T) => T {
  if (!base) return (value) => value;
  const walk = (value: unknown): unknown => {
    if (typeof value === "string") return IMAGE_PATH.test(value) ? base + value : value;
    if (Array.isArray(value)) return value.map(walk);
    if (value !== null && typeof value === "object") {
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) return value;
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = walk(v);
      return out;
    }
    return value;
  };
  return <T>(value: T) => walk(value) as T;
}

export type ImageUrlResolver = ReturnType<typeof imageUrlResolver>;
