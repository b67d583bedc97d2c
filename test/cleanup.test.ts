// Expired sessions and old Idempotency-Key rows (which keep whole responses) are deleted on a timer.
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestServices } from "./support/services.js";
import { startTestServer, type TestServer } from "./support/servers.js";
import { waitUntil } from "./support/clients.js";
import { httpClient } from "./support/http.js";

describe("cleanup", () => {
  const services = useTestServices();
  let server: TestServer;
  let sql: postgres.Sql;

  beforeAll(async () => {
    server = await startTestServer(services.databaseUrl, services.redisPrefix, { CLEANUP_INTERVAL_SEC: "1", CLEANUP_BATCH: "100" });
    sql = postgres(services.databaseUrl, { max: 1, onnotice: () => {} });
  });
  afterAll(async () => {
    await sql?.end();
    await server?.stop();
  });

  it("deletes expired sessions and Idempotency-Key rows older than IDEMPOTENCY_KEY_TTL_SEC, in bounded batches, and keeps the rest", async () => {
    const call = httpClient(server.url);
    const { code } = (await call<{ code: string }>("POST", "/sandbox/wechat/login-code", { body: {} })).body;
    const live = (await call<{ token: string; user: { id: string } }>("POST", "/v1/auth/login", { body: { code } })).body;
    const userId = live.user.id;
    // 250 expired sessions (more than one batch), 250 day-old keys with their stored responses, and fresh ones of each.
    await sql`insert into sessions (token_hash, user_id, expires_at) select 'expired-' || i, ${userId}, now() - interval '1 minute' from generate_series(1, 250) i`;
    await sql`insert into idempotency_keys (scope, key, request_hash, state, status, response, created_at)
      select 'old-scope', 'k' || i, 'h', 'done', 201, '{"order":"a whole response"}'::jsonb, now() - interval '25 hours' from generate_series(1, 250) i`;
    await sql`insert into idempotency_keys (scope, key, request_hash, state, status, response) values ('fresh-scope', 'k1', 'h', 'done', 201, '{}'::jsonb)`;

    await waitUntil(async () => {
      const [s] = await sql<{ n: number }[]>`select count(*)::int n from sessions where token_hash like 'expired-%'`;
      const [k] = await sql<{ n: number }[]>`select count(*)::int n from idempotency_keys where scope = 'old-scope'`;
      return s!.n === 0 && k!.n === 0;
    }, "expired sessions and old keys deleted", 15_000);
    const [fresh] = await sql<{ n: number }[]>`select count(*)::int n from idempotency_keys where scope = 'fresh-scope'`;
    expect(fresh!.n).toBe(1);
    expect((await call("GET", "/v1/me", { token: live.token })).status).toBe(200);
  });
});
