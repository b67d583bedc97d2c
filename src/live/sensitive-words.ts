import { eq, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/client.js";
import { liveStreams } from "../db/live.schema.js";
import type { Identity } from "../auth/identity.js";
import { requireHost } from "./hosting.js";

export const SensitiveWordsInput = z.object({ words: z.array(z.string().trim().min(1).max(40)).max(200) });
export const SensitiveWords = z.object({
  /** The host's own words for this stream, as entered. */
  words: z.array(z.string()),
  /** Words masked in every room (SENSITIVE_WORDS), normalized. */
  globalWords: z.array(z.string()),
});
export type SensitiveWords = z.infer<typeof SensitiveWords>;

/**
 * A stream's own sensitive words, masked in its comments on top of SENSITIVE_WORDS. PostgreSQL keeps
 * the list; the room's Redis state carries it to every node's hub (stored and published in one
 * script, so a node opening the room meanwhile gets it either way).
 */
export function createSensitiveWords(deps: { db: Db; globalWords: readonly string[]; publish: (streamId: string, words: readonly string[]) => Promise<void> }) {
  const { db } = deps;
  return {
    async get(user: Identity, streamId: string): Promise<SensitiveWords> {
      const stream = await requireHost(db, user, streamId);
      return { words: stream.sensitiveWords, globalWords: [...deps.globalWords] };
    },
    async set(user: Identity, streamId: string, input: string[]): Promise<SensitiveWords> {
      await requireHost(db, user, streamId);
      const seen = new Set<string>();
      const words = input.filter((w) => {
        const key = w.normalize("NFKC").toLowerCase();
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      });
      // Under the stream's lock across nodes, so PostgreSQL and the room end with the same last list.
      await db.transaction(async (tx) => {
        await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`words:${streamId}`}))`);
        await tx.update(liveStreams).set({ sensitiveWords: words }).where(eq(liveStreams.id, streamId));
        await deps.publish(streamId, words);
      });
      return { words, globalWords: [...deps.globalWords] };
    },
  };
}

export type SensitiveWordsService = ReturnType<typeof createSensitiveWords>;
