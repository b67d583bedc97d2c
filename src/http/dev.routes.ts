import { z } from "zod";
import type { Db } from "../db/client.js";
import { createStream } from "../db/streams.repo.js";
import { createSession, createUser } from "../db/users.repo.js";
import type { Authenticate } from "../auth/identity.js";
import { requireUser } from "./auth.routes.js";
import { parseInput, type Router } from "../uws/router.js";

const SessionInput = z.object({ nickname: z.string().trim().min(1).max(40) });
const StreamInput = z.object({ title: z.string().trim().min(1).max(120) });

const DEV_SESSION_TTL_SEC = 7 * 24 * 3600;

/**
 * Development-only session and stream creation, until WeChat login lands. Never registered in
 * production (config refuses DEV_TOKENS there), so these paths answer 404.
 */
export function devRoutes(router: Router, deps: { db: Db; authenticate: Authenticate }) {
  router.post("/v1/dev/sessions", async (ctx) => {
    const input = parseInput(SessionInput, ctx.body ?? {});
    const user = await createUser(deps.db, { nickname: input.nickname });
    const { token, expiresAt } = await createSession(deps.db, user.id, DEV_SESSION_TTL_SEC);
    return { status: 201, body: { token, userId: user.id, nickname: user.nickname, expiresAt: expiresAt.toISOString() } };
  });

  router.post("/v1/dev/streams", async (ctx) => {
    const who = await requireUser(ctx, deps.authenticate);
    const input = parseInput(StreamInput, ctx.body ?? {});
    const stream = await createStream(deps.db, { hostUserId: who.userId, title: input.title });
    return { status: 201, body: { streamId: stream.id, title: stream.title, hostId: stream.hostUserId } };
  });
}
