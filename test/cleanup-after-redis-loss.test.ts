// The repeating cleanup job lives only in Redis: after Redis loses the job keys, the reconciler
// schedules it again (no restart needed), and it runs.
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisKeys } from "../src/redis/keys.js";
import { useTestServices } from "./support/services.js";
import { startTestServer, type TestServer } from "./support/servers.js";
import { sleep, waitUntil } from "./support/clients.js";
import { redisUrl } from "./support/env.js";

const SCHEDULER = "maintenance-cleanup-every";

describe("cleanup job after Redis loses its data", () => {
  const services = useTestServices();
  let server: TestServer;
  let sql: postgres.Sql;
  let redis: Redis;
  let queue: Queue;

  beforeAll(async () => {
    // The reconciler runs at start and when the test says so; cleanup's period is its default (10 minutes).
    server = await startTestServer(services.databaseUrl, services.redisPrefix, { JOBS_RECONCILE_INTERVAL_SEC: "3600" });
    sql = postgres(services.databaseUrl, { max: 1, onnotice: () => {} });
    redis = new Redis(redisUrl);
    const { hostname, port } = new URL(redisUrl);
    queue = new Queue("maintenance", { connection: { host: hostname, port: Number(port || 6379) }, prefix: redisKeys(services.redisPrefix).jobs });
  });
  afterAll(async () => {
    await queue?.close();
    redis?.disconnect();
    await server?.stop();
    await sql?.end();
  });

  /** Deletes every job key of this test's server (what FLUSHALL does to them), and nothing else on the shared Redis. */
  async function loseJobKeys() {
    const pattern = `${redisKeys(services.redisPrefix).jobs}:*`;
    let cursor = "0";
    let deleted = 0;
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    } while (cursor !== "0");
    return deleted;
  }
  const expiredSessions = async () => (await sql<{ n: number }[]>`select count(*)::int n from sessions where token_hash like 'lost-%'`)[0]!.n;

  it("is scheduled again by the reconciler and runs", async () => {
    await waitUntil(async () => (await queue.getJobScheduler(SCHEDULER)) !== undefined, "the cleanup job scheduled at start");
    expect((await queue.getJobScheduler(SCHEDULER))?.every).toBe(600_000);

    expect(await loseJobKeys()).toBeGreaterThan(0);
    expect(await queue.getJobScheduler(SCHEDULER)).toBeUndefined();
    const [user] = await sql<{ id: string }[]>`insert into users (id, nickname, role) values ('u-lost', 'Lost', 'user') returning id`;
    await sql`insert into sessions (token_hash, user_id, expires_at) select 'lost-' || i, ${user!.id}, now() - interval '1 minute' from generate_series(1, 5) i`;
    // Nothing brings it back by itself.
    await sleep(1500);
    expect(await queue.getJobScheduler(SCHEDULER)).toBeUndefined();
    expect(await expiredSessions()).toBe(5);

    await server.app.reconcile();
    expect((await queue.getJobScheduler(SCHEDULER))?.every).toBe(600_000);
    await waitUntil(async () => (await expiredSessions()) === 0, "the rescheduled cleanup ran", 15_000);

    // Another round keeps the one scheduler as it is (its next run stays where it was).
    const next = (await queue.getJobScheduler(SCHEDULER))?.next;
    await server.app.reconcile();
    expect(await queue.getJobScheduler(SCHEDULER)).toMatchObject({ every: 600_000, next });
  });
});
