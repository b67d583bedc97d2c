import { randomBytes } from "node:crypto";

const ID_BYTES = 9;
const POOL_IDS = 512;
let pool = Buffer.alloc(0);
let at = 0;

/**
 * A comment's id: 12 base64url characters from 9 cryptographically random bytes. The bytes come from a
 * pool refilled once per 512 ids: one `randomBytes(9)` per comment cost ~16 µs of CPU when calls are
 * spread out (OpenSSL's per-call overhead), the pooled slice well under 1 µs.
 */
export function newCommentId(): string {
  if (at + ID_BYTES > pool.length) {
    pool = randomBytes(ID_BYTES * POOL_IDS);
    at = 0;
  }
  const id = pool.toString("base64url", at, at + ID_BYTES);
  at += ID_BYTES;
  return id;
}
