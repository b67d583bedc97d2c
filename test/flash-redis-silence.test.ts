// Redis goes silent while flash reconcile rounds wait for the sale's fence (two nodes, a rush, and
// takes of a dead node that every round must give back): every buyer is answered, 201 or 503 to
// retry, within about the Redis command timeout, and once Redis is back the sale's truth holds.
import { Redis } from "ioredis";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFlashGate, requestField } from "../src/orders/flash-gate.redis.js";
import { SALE_LOCK } from "../src/orders/lifecycle.js";
import { newOrderId } from "../src/orders/order-id.js";
import { redisKeys } from "../src/redis/keys.js";
import { sleep, waitFor } from "./support/clients.js";
import { redisUrl } from "./support/env.js";
import { buyOnce, flashTruth, setUpFlashSale, type Attempt } from "./support/flash.js";
import { useTestServices } from "./support/services.js";
import { spawnServer, type SpawnedServer } from "./support/servers.js";
import { startTcpProxy, type TcpProxy } from "./support/tcp-proxy.js";

/** A Redis command not answered in this time fails (REDIS_COMMAND_TIMEOUT_MS). */
const COMMAND_TIMEOUT_MS = 1000;
/** What a buyer may wait beyond the command timeout: the request's own work on a busy host. */
const MARGIN_MS = 1000;
const SILENT_MS = 4 * COMMAND_TIMEOUT_MS;
const env = { FLASH_TAKE_STALE_MS: "1500", REDIS_COMMAND_TIMEOUT_MS: String(COMMAND_TIMEOUT_MS) };

describe("Redis silent while flash reconcile rounds wait for the sale's fence", () => {
  const services = useTestServices();
  let proxy: TcpProxy;
  let nodes: SpawnedServer[] = [];
  let truth: ReturnType<typeof flashTruth>;
  let sql: postgres.Sql;
  let redis: Redis;

  beforeAll(async () => {
    const target = new URL(redisUrl);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    nodes = await Promise.all([0, 1].map(() => spawnServer(services.databaseUrl, services.redisPrefix, { ...env, REDIS_URL: proxy.url("redis") })));
    truth = flashTruth(services.databaseUrl, services.redisPrefix);
    sql = postgres(services.databaseUrl, { max: 3, onnotice: () => {} });
    redis = new Redis(redisUrl);
  }, 90_000);
  afterAll(async () => {
    await proxy?.heal();
    await Promise.all(nodes.map((n) => n.stop()));
    await proxy?.close();
    await truth?.close();
    await sql?.end({ timeout: 5 });
    redis?.disconnect();
  });

  it("answers every buy within the command timeout and a margin, and the sale's truth holds after", async () => {
    const sale = await setUpFlashSale(nodes[0]!.url, services.databaseUrl, { quantity: 3000, limit: 50, buyers: 60 });
    const attempts: (Attempt & { at: number; ms: number })[] = [];
    let phase: "before" | "silent" | "healed" = "before";
    let silentAt = 0;
    let healedAt = 0;
    const soldAfterHeal = () => attempts.filter((a) => a.at > healedAt && a.status === 201).length;

    // The rush: through both nodes, one request at a time per worker, until the nodes sell again after Redis is back.
    let n = 0;
    const rush = Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        while (!(phase === "healed" && (soldAfterHeal() >= 40 || Date.now() > healedAt + 30_000))) {
          const i = ++n;
          const at = Date.now();
          const a = await buyOnce(nodes[(w + i) % 2]!.url, sale.saleId, sale.buyers[i % sale.buyers.length]!, `r-${i}`);
          attempts.push({ ...a, at, ms: Date.now() - at });
          if (a.code === "SOLD_OUT") return;
          await sleep(10);
        }
      }),
    );
    await waitFor(() => attempts.some((a) => a.status === 201), "the first order (the gate is loaded)", 20_000);

    // Takes of a node that died before writing them: each is stale after FLASH_TAKE_STALE_MS, so
    // every reconcile round has takes to give back.
    const gate = createFlashGate(redis, redisKeys(services.redisPrefix));
    let ghosts = 0;
    const ghost = (async () => {
      while (phase === "before") {
        const user = `ghost${ghosts++}`;
        await gate.take(sale.saleId, user, 1, sale.limit, { field: requestField(user, "k"), hash: "h" }, newOrderId());
        await sleep(100);
      }
    })();
    await sleep(2500);

    // A batch in flight holds the fence shared; once a node's reconcile waits for it exclusive (both
    // nodes', if they come within 300 ms), Redis goes silent and the batch commits.
    const waiting = async () => {
      const [row] = await sql<{ n: number }[]>`
        select count(*)::int as n from pg_locks
        where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())
          and classid = ${SALE_LOCK} and objid = (hashtext(${sale.saleId})::bigint & 4294967295)::text::oid and objsubid = 2
          and mode = 'ExclusiveLock' and not granted`;
      return row!.n;
    };
    let seen = 0;
    await sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock_shared(${SALE_LOCK}, hashtext(${sale.saleId}))`;
      const first = Date.now() + 10_000;
      while (Date.now() < first && (seen = await waiting()) < 1) await sleep(5);
      const second = Date.now() + 300;
      while (Date.now() < second && seen < 2) {
        seen = Math.max(seen, await waiting());
        await sleep(5);
      }
      phase = "silent";
      await proxy.blackhole();
      silentAt = Date.now();
    });
    expect(seen, "reconcile rounds waiting for the sale's fence").toBeGreaterThan(0);
    await ghost;
    await sleep(SILENT_MS);
    await proxy.heal();
    healedAt = Date.now();
    phase = "healed";
    await rush;

    const slowest = attempts.reduce((m, a) => (a.ms > m.ms ? a : m), attempts[0]!);
    const during = attempts.filter((a) => a.at + a.ms > silentAt && a.at < healedAt);
    console.log(
      `${attempts.length} buys, ${during.length} answered or sent while Redis was silent (${during.filter((a) => a.status === 201).length} 201, ${during.filter((a) => a.status === 503).length} 503); ` +
        `${seen} reconcile round(s) waiting for the fence as it went silent; the slowest answer ${slowest.ms} ms (${slowest.status} ${slowest.code ?? ""}, sent ${slowest.at - silentAt} ms after the silence began); ${ghosts} takes of a dead node`,
    );
    // Every buy was answered: an order, a refusal, or 503 to retry (never a lost answer or a 500)...
    const kinds = new Set(attempts.map((a) => `${a.status} ${a.code ?? ""}`.trim()));
    expect([...kinds].filter((k) => !["201", "409 SOLD_OUT", "409 LIMIT_EXCEEDED", "503 UNAVAILABLE"].includes(k))).toEqual([]);
    expect(during.some((a) => a.status === 503), "Redis's silence was felt").toBe(true);
    // ...each within about the command timeout: no reconcile's Redis call on top, and no PostgreSQL timeout.
    expect(slowest.ms).toBeLessThanOrEqual(COMMAND_TIMEOUT_MS + MARGIN_MS);
    expect(soldAfterHeal(), "orders once Redis is back").toBeGreaterThanOrEqual(40);

    // The reconcile gives back the dead node's takes; nothing oversold, every acknowledged order whole.
    const t = await truth.agreed(sale.saleId);
    expect(t.sale.sold).toBeLessThanOrEqual(sale.quantity);
    expect(t.units).toBe(t.sale.sold);
    expect(t.skuStock).toBe(sale.quantity * 2 - t.sale.sold);
    expect(Math.max(...t.perUser.values())).toBeLessThanOrEqual(sale.limit);
    const rows = new Map(t.orders.map((o) => [o.id, o]));
    for (const a of attempts.filter((x) => x.status === 201)) expect(rows.get(a.orderId!), a.key).toMatchObject({ user_id: a.buyer.userId, request_key: a.key, lines: 1, answers: 1 });
    expect(t.gateLeft).toBe(sale.quantity - t.sale.sold);
  }, 180_000);
});
