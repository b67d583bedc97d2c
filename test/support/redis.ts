import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { redisUrl } from "./env.js";

/** A key prefix of one test file's own; `cleanup` deletes every key under it. */
export function testRedisPrefix() {
  const prefix = `t-${randomBytes(4).toString("hex")}`;
  return {
    prefix,
    cleanup: async () => {
      const r = new Redis(redisUrl);
      // The app's keys, and BullMQ's under the hash-tagged jobs prefix (`{<prefix>:jobs}:…`).
      for (const pattern of [`${prefix}:*`, `{${prefix}:*`]) {
        let cursor = "0";
        do {
          const [next, keys] = await r.scan(cursor, "MATCH", pattern, "COUNT", 1000);
          cursor = next;
          if (keys.length > 0) await r.unlink(...keys);
        } while (cursor !== "0");
      }
      await r.quit();
    },
  };
}
