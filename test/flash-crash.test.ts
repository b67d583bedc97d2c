// kill -9 in the middle of a flash rush, then a restart: after the reconcile the gate and PostgreSQL
// agree, nothing is oversold or lost, every acknowledged order exists, and retried keys return their orders.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestServices } from "./support/services.js";
import { spawnServer, type SpawnedServer } from "./support/servers.js";
import { buyOnce, flashTruth, rush, setUpFlashSale, type Attempt } from "./support/flash.js";

/** Takes whose orders are not in PostgreSQL are given back after this (the default is 5 s). */
const env = { FLASH_TAKE_STALE_MS: "1500" };

describe("a server killed in the middle of a flash rush", () => {
  let first: SpawnedServer;
  let second: SpawnedServer | undefined;
  let truth: ReturnType<typeof flashTruth>;
  const services = useTestServices();

  beforeAll(async () => {
    first = await spawnServer(services.databaseUrl, services.redisPrefix, env);
    truth = flashTruth(services.databaseUrl, services.redisPrefix);
  });
  afterAll(async () => {
    await Promise.all([first?.kill(), second?.stop()]);
    await truth?.close();
  });

  it("loses no acknowledged order, oversells nothing, and answers every retried key as before", async () => {
    const sale = await setUpFlashSale(first.url, services.databaseUrl, { quantity: 300, limit: 3, buyers: 150 });
    let killed = false;
    const before = await rush(first.url, sale, {
      workers: 24,
      tag: "a",
      stop: (attempts) => {
        if (!killed && attempts.filter((a) => a.status === 201).length >= 80) {
          killed = true;
          void first.kill();
        }
        // The rush goes on until the dead server refuses connections for a while.
        return killed && attempts.slice(-24).every((a) => a.status === null);
      },
    });
    expect(killed).toBe(true);
    const acked = before.filter((a) => a.status === 201);
    const unknown = before.filter((a) => a.status === null);
    expect(acked.length).toBeGreaterThanOrEqual(80);
    expect(unknown.length).toBeGreaterThan(0);
    // Every answer the buyers got before the kill was an order or a refusal.
    expect(before.filter((a) => a.status !== null && a.status !== 201 && !(a.status === 409 && ["SOLD_OUT", "LIMIT_EXCEEDED"].includes(a.code!)))).toEqual([]);

    second = await spawnServer(services.databaseUrl, services.redisPrefix, env);
    const t = await truth.agreed(sale.saleId);
    expect(t.sale.sold).toBeLessThanOrEqual(sale.quantity);
    expect(t.units).toBe(t.sale.sold);
    expect(Math.max(...t.perUser.values())).toBeLessThanOrEqual(sale.limit);
    expect(t.skuStock).toBe(sale.quantity * 2 - t.sale.sold);
    // Every acknowledged order is in PostgreSQL under the buyer and the key it was asked with, whole.
    const byId = new Map(t.orders.map((o) => [o.id, o]));
    for (const a of acked) expect(byId.get(a.orderId!), a.key).toMatchObject({ user_id: a.buyer.userId, request_key: a.key, lines: 1, answers: 1 });

    // Every key again, on the new server: the same order for an acknowledged one, the same refusal for
    // a refused one, and for one whose answer was lost, the order if it was written (or a fresh answer).
    const retried = new Map<string, Attempt>();
    for (const a of before) retried.set(a.key, await buyOnce(second.url, sale.saleId, a.buyer, a.key));
    for (const a of acked) expect(retried.get(a.key), a.key).toMatchObject({ status: 201, orderId: a.orderId });
    for (const a of before.filter((x) => x.status === 409)) expect(retried.get(a.key), a.key).toMatchObject({ status: 409, code: a.code });
    for (const a of unknown) {
      const again = retried.get(a.key)!;
      expect([201, 409], a.key).toContain(again.status);
      const written = t.orders.find((o) => o.request_key === a.key && o.user_id === a.buyer.userId);
      if (written) expect(again).toMatchObject({ status: 201, orderId: written.id });
    }
    // Every order row was answered, before the kill or on the retry.
    const answered = new Set([...acked, ...retried.values()].filter((a) => a.status === 201).map((a) => a.orderId));
    const afterRetry = await truth.agreed(sale.saleId);
    expect(afterRetry.orders.filter((o) => !answered.has(o.id))).toEqual([]);

    // The sale sells out exactly on the new server.
    await rush(second.url, sale, { workers: 16, tag: "b", stop: () => false });
    const end = await truth.agreed(sale.saleId);
    expect(end.sale.sold).toBe(sale.quantity);
    expect(end.units).toBe(sale.quantity);
    expect(end.gateLeft).toBe(0);
    expect(Math.max(...end.perUser.values())).toBeLessThanOrEqual(sale.limit);
    expect(end.orders.every((o) => o.lines === 1 && o.answers === 1)).toBe(true);
  }, 180_000);
});
