// PostgreSQL out of reach for a moment during a flash rush (a TCP proxy between the server and it,
// cut and healed): buyers get 503 UNAVAILABLE, never 500, and nothing is half-written.
import { createServer, connect, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestServices } from "./support/services.js";
import { spawnServer, type SpawnedServer } from "./support/servers.js";
import { buyOnce, flashTruth, rush, setUpFlashSale } from "./support/flash.js";

/** A TCP proxy to PostgreSQL that can be cut (every connection dropped, new ones refused) and healed. */
async function pgProxy(target: URL) {
  const sockets = new Set<Socket>();
  let down = false;
  const server: Server = createServer((client) => {
    if (down) return void client.destroy();
    const upstream = connect(Number(target.port || 5432), target.hostname);
    for (const [a, b] of [[client, upstream], [upstream, client]] as const) {
      sockets.add(a);
      a.on("error", () => b.destroy());
      a.on("close", () => {
        sockets.delete(a);
        b.destroy();
      });
      a.pipe(b);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    cut() {
      down = true;
      for (const s of sockets) s.destroy();
    },
    heal() {
      down = false;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe("PostgreSQL unreachable during a flash rush", () => {
  let server: SpawnedServer;
  let proxy: Awaited<ReturnType<typeof pgProxy>>;
  let truth: ReturnType<typeof flashTruth>;
  const services = useTestServices();

  beforeAll(async () => {
    proxy = await pgProxy(new URL(services.databaseUrl));
    const url = new URL(services.databaseUrl);
    url.host = `127.0.0.1:${proxy.port}`;
    server = await spawnServer(url.toString(), services.redisPrefix, { FLASH_TAKE_STALE_MS: "1500" });
    truth = flashTruth(services.databaseUrl, services.redisPrefix);
  });
  afterAll(async () => {
    proxy?.heal();
    await server?.stop();
    await proxy?.close();
    await truth?.close();
  });

  it("answers 503 while it is cut, heals, and keeps every order whole and the gate in agreement", async () => {
    const sale = await setUpFlashSale(server.url, services.databaseUrl, { quantity: 400, limit: 4, buyers: 150 });
    let phase: "before" | "cut" | "healed" = "before";
    let cutAt = 0;
    const attempts = await rush(server.url, sale, {
      workers: 24,
      tag: "r",
      stop: (so) => {
        if (phase === "before" && so.filter((a) => a.status === 201).length >= 60) {
          phase = "cut";
          cutAt = so.length;
          proxy.cut();
          setTimeout(() => {
            proxy.heal();
            phase = "healed";
          }, 1500);
        }
        return phase === "healed" && so.length > cutAt + 400;
      },
    });
    // Only orders, refusals and 503s (and a retryable 409 for a key whose take is still being decided): never a 500.
    const statuses = new Map<string, number>();
    for (const a of attempts) statuses.set(`${a.status} ${a.code ?? ""}`.trim(), (statuses.get(`${a.status} ${a.code ?? ""}`.trim()) ?? 0) + 1);
    const errors = attempts.filter((a) => a.error).map((a) => a.error);
    expect([...statuses.keys()].filter((k) => !["201", "409 SOLD_OUT", "409 LIMIT_EXCEEDED", "503 UNAVAILABLE", "409 IDEMPOTENCY_IN_PROGRESS"].includes(k)), JSON.stringify({ statuses: [...statuses], errors: errors.slice(0, 3) })).toEqual([]);
    expect(statuses.get("503 UNAVAILABLE") ?? 0).toBeGreaterThan(0);
    expect(attempts.slice(cutAt).filter((a) => a.status === 201).length).toBeGreaterThan(0);

    // Nothing half-written: after the reconcile, every order has its line and its Idempotency-Key
    // answer, the sale's sold is the units of its orders, the gate agrees, and every 201 is an order.
    const t = await truth.agreed(sale.saleId);
    expect(t.orders.every((o) => o.lines === 1 && o.answers === 1 && o.units === 1)).toBe(true);
    expect(t.units).toBe(t.sale.sold);
    expect(t.skuStock).toBe(sale.quantity * 2 - t.sale.sold);
    const ids = new Set(t.orders.map((o) => o.id));
    expect(attempts.filter((a) => a.status === 201 && !ids.has(a.orderId!))).toEqual([]);
    // A key answered 503 runs again on a retry: an order, or a refusal, never a 500.
    for (const a of attempts.filter((x) => x.status === 503).slice(0, 40)) {
      const again = await buyOnce(server.url, sale.saleId, a.buyer, a.key);
      expect([201, 409], a.key).toContain(again.status);
    }
    const end = await truth.agreed(sale.saleId);
    expect(end.units).toBe(end.sale.sold);
    expect(end.sale.sold).toBeLessThanOrEqual(sale.quantity);
    expect(Math.max(...end.perUser.values())).toBeLessThanOrEqual(sale.limit);
  }, 180_000);
});
