// The order lifecycle under random concurrent event sequences, against the real PostgreSQL and Redis:
// every status change is a row of the table, and every unit (stock, flash units, coupon use) taken
// is given back at most once.
import { randomBytes } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { Redis } from "ioredis";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../../test/support/databases.js";
import { redisUrl } from "../../test/support/env.js";
import { testRedisPrefix } from "../../test/support/redis.js";
import { startTcpProxy } from "../../test/support/tcp-proxy.js";
import { catalogRepo } from "../catalog/catalog.repo.js";
import { openDatabase, type Database } from "../db/client.js";
import { couponClaims, coupons } from "../db/coupons.schema.js";
import { flashBuyers, flashGiveBacks, flashSales } from "../db/flash.schema.js";
import { liveStreams, streamProducts } from "../db/live.schema.js";
import { orderItems, orders, type OrderStatus } from "../db/orders.schema.js";
import { skus } from "../db/catalog.schema.js";
import { createUser } from "../db/users.repo.js";
import { createLogger } from "../log.js";
import { AppError } from "../protocol/errors.js";
import { redisKeys } from "../redis/keys.js";
import { addressRepo } from "../shopping/address.repo.js";
import { createFlashCheckout, type FlashCheckout } from "./flash-checkout.js";
import { createFlashGate } from "./flash-gate.redis.js";
import { createLifecycle, isTransition, type Lifecycle } from "./lifecycle.js";
import { createOrderEvents } from "./order-events.js";

/** A small seeded PRNG (mulberry32), so a failing run can be replayed from its seed. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(list: readonly T[]) => list[Math.floor(next() * list.length)]! };
}

const EXPECTED = new Set(["OUT_OF_STOCK", "SOLD_OUT", "LIMIT_EXCEEDED", "ORDER_STATE", "COUPON_NOT_APPLICABLE", "NOT_FOUND", "CONFLICT", "UNPAID_ORDERS_LIMIT", "UNPAID_UNITS_LIMIT"]);

describe("order lifecycle under random event sequences", () => {
  let database: Database;
  let databaseUrl: string;
  let drop: () => Promise<void>;
  let redis: Redis;
  let cleanup: () => Promise<void>;
  let keys: ReturnType<typeof redisKeys>;
  let lifecycle: Lifecycle;
  let checkout: FlashCheckout;
  const told = { placed: new Map<string, number>(), cancelled: new Map<string, number>() };

  beforeAll(async () => {
    const created = await createTestDatabase();
    drop = created.drop;
    databaseUrl = created.url;
    database = await openDatabase({ url: created.url, dataDir: "" });
    const prefix = testRedisPrefix();
    cleanup = prefix.cleanup;
    redis = new Redis(redisUrl);
    const log = createLogger("silent", "test");
    const events = createOrderEvents(log);
    const bump = (m: Map<string, number>, id: string) => m.set(id, (m.get(id) ?? 0) + 1);
    events.on("placed", (e) => void e.orders.forEach((o) => bump(told.placed, o.id)));
    events.on("cancelled", (e) => void bump(told.cancelled, e.order.id));
    events.seal();
    keys = redisKeys(prefix.prefix);
    const gate = createFlashGate(redis, keys, { takeTimeoutMs: 2000 });
    lifecycle = createLifecycle({ db: database.db, events, log, payTimeoutSec: 900, holds: { maxUnpaidOrders: 5, maxUnpaidUnitsPerSku: 99 }, pricing: { maxTotalFen: 100_000_000, couponMaxDiscountPercent: 50 }, gate });
    checkout = createFlashCheckout({ db: database.db, lifecycle, gate, log, options: { gatherMs: 2, maxBatch: 8, staleMs: 1000, maxTotalFen: 100_000_000 } });
    // Test-only: every status an order takes is logged by the database itself.
    await database.db.execute(sql`create table status_log (id serial primary key, order_id text not null, old text, new text not null)`);
    await database.db.execute(sql.raw(`create function log_status() returns trigger language plpgsql as $$ begin
      insert into status_log (order_id, old, new) values (new.id, case when tg_op = 'INSERT' then null else old.status end, new.status);
      return new; end $$`));
    await database.db.execute(sql`create trigger orders_status_log after insert or update of status on orders for each row execute function log_status()`);
  });
  afterAll(async () => {
    checkout?.stop();
    redis?.disconnect();
    await database?.close();
    await drop?.();
    await cleanup?.();
  });

  it("moves orders only along the table and gives back every unit at most once (3 seeds × 240 events, 6 at a time)", async () => {
    for (const seed of [1, 2, 3].map((i) => i * 7919 + (Date.now() % 1000))) await run(seed);
  }, 240_000);

  /** A flash sale of 5 units, 3 each, at 99 fen, on a product of its own (10 in stock); `tag` is fresh. */
  async function smallSale(letter: string) {
    const tag = randomBytes(3).toString("hex");
    const p = await catalogRepo.createProduct(database.db, { sn: `${letter}-${tag}`, name: "P", brief: "", pictures: [], categoryId: null, listed: true, skus: [{ specs: {}, priceFen: 500, stock: 10 }] });
    const [sale] = await database.db
      .insert(flashSales)
      .values({ id: `f${letter.toLowerCase()}-${tag}`, streamId: "s", skuId: p.skus[0]!.id, productId: p.id, priceFen: 99, quantity: 5, perUserLimit: 3, endsAt: new Date(Date.now() + 3600_000) })
      .returning();
    return { tag, p, sale: sale! };
  }

  /** A new address of the user's; its id. */
  const newAddress = async (userId: string) =>
    (await addressRepo.create(database.db, userId, { name: "Li", phone: "13800138000", province: "Z", city: "H", district: "X", detail: "1", isDefault: false })).id;

  it("answers a retried key with its order after Redis lost the gate, and the reloaded gate agrees with PostgreSQL", async () => {
    const db = database.db;
    const { sale } = await smallSale("G");
    const u = await createUser(db, { nickname: "g" });
    const addr = await addressRepo.create(db, u.id, { name: "Li", phone: "13800138000", province: "Z", city: "H", district: "X", detail: "1", isDefault: true });
    const buy = (key: string) => checkout.buy(u.id, sale.id, { quantity: 1, addressId: addr.id, request: { key, scope: `${u.id} buy`, hash: "h".repeat(64) } });
    const first = await buy("k1");
    await buy("k2");
    expect((await buy("k1")).id).toBe(first.id);
    // Redis loses the sale's keys: the gate is reloaded from PostgreSQL, which still knows the key's order.
    await redis.del(...Object.values(keys.flash).map((k) => k(sale.id)));
    const again = await buy("k1");
    expect(again).toMatchObject({ id: first.id, status: "pending_payment", totalFen: 99 });
    const third = await buy("k3");
    expect(third.id).not.toBe(first.id);
    await checkout.reconcile();
    expect(await checkout.audit(sale.id)).toMatchObject({ agree: true, gateLeft: 2, dbLeft: 2 });
  });

  it("gives a cancelled flash order's units to the gate once, late, when Redis was silent as the cancel committed", async () => {
    const db = database.db;
    const { sale } = await smallSale("B");
    const u = await createUser(db, { nickname: "b" });
    const addressId = await newAddress(u.id);
    const order = await checkout.buy(u.id, sale.id, { quantity: 2, addressId, request: { key: "kb", scope: `${u.id} buy`, hash: "h".repeat(64) } });
    expect(await checkout.audit(sale.id)).toMatchObject({ agree: true, gateLeft: 3 });
    // A node whose Redis goes silent: its lifecycle cancels the order, and the give-back times out.
    const target = new URL(redisUrl);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    const silentRedis = new Redis(proxy.url("redis"), { commandTimeout: 300, maxRetriesPerRequest: 0 });
    try {
      await silentRedis.ping();
      const log = createLogger("silent", "test");
      const events = createOrderEvents(log);
      events.seal();
      const silent = createLifecycle({ db, events, log, payTimeoutSec: 900, holds: { maxUnpaidOrders: 5, maxUnpaidUnitsPerSku: 99 }, pricing: { maxTotalFen: 100_000_000, couponMaxDiscountPercent: 50 }, gate: createFlashGate(silentRedis, keys) });
      await proxy.blackhole();
      expect(await silent.cancel(u.id, order.id, "test")).toMatchObject({ status: "cancelled" });
    } finally {
      silentRedis.disconnect();
      await proxy.close();
    }
    // PostgreSQL has the units back and owes them to the gate; the gate does not have them yet.
    const owed = () => db.select().from(flashGiveBacks).where(eq(flashGiveBacks.orderId, order.id));
    expect(await owed()).toMatchObject([{ flashSaleId: sale.id, userId: u.id, quantity: 2 }]);
    expect(await checkout.audit(sale.id)).toMatchObject({ agree: false, gateLeft: 3, dbLeft: 5 });
    // The flash reconcile (any node's) gives them, once its age passes staleMs (1 s here); again gives nothing.
    await new Promise((r) => setTimeout(r, 1100));
    await checkout.reconcile();
    expect(await owed()).toEqual([]);
    expect(await checkout.audit(sale.id)).toMatchObject({ agree: true, gateLeft: 5, dbLeft: 5 });
    await checkout.reconcile();
    expect(await createFlashGate(redis, keys).give(sale.id, order.id, u.id, 2)).toBe("before");
    expect(await checkout.audit(sale.id)).toMatchObject({ agree: true, gateLeft: 5, dbLeft: 5 });
  });

  it("refuses a flash batch whole when PostgreSQL disagrees with the gate, says why, and answers a key seen before with its order", async () => {
    const db = database.db;
    const { tag, p, sale } = await smallSale("R");
    const [u1, u2] = [await createUser(db, { nickname: "r1" }), await createUser(db, { nickname: "r2" })];
    const addressOf = new Map([[u1.id, await newAddress(u1.id)], [u2.id, await newAddress(u2.id)]]);
    let n = 0;
    const buy = (userId: string, quantity: number, requestKey = `k${++n}`, addressId = addressOf.get(userId)!) => ({ orderId: `${tag}r${++n}`.padEnd(32, "0"), userId, quantity, requestKey, addressId, idempotency: { scope: `${userId} buy`, hash: "h" } });
    const terms = { id: sale.id, streamId: "s", skuId: p.skus[0]!.id, priceFen: 99, perUserLimit: 3, product: { productId: p.id, name: "P", specs: {}, cover: "" } };
    const state = async () => {
      const [s] = await db.select({ sold: flashSales.sold }).from(flashSales).where(eq(flashSales.id, sale.id));
      const [k] = await db.select({ stock: skus.stock }).from(skus).where(eq(skus.id, p.skus[0]!.id));
      const rows = await db.select({ id: orders.id }).from(orders).where(sql`${orders.id} like ${`${tag}r%`}`);
      return { sold: s!.sold, stock: k!.stock, orders: rows.length };
    };
    const first = buy(u1.id, 2, "again");
    expect(await lifecycle.placeFlashBatch(terms, [first], null)).toMatchObject({ kind: "placed", conflicts: [], voided: [] });
    expect(await state()).toEqual({ sold: 2, stock: 8, orders: 1 });
    // u1 holds 2 of 3: two more is over the limit (both of u1's buys count), and nothing of the batch is written.
    expect(await lifecycle.placeFlashBatch(terms, [buy(u2.id, 1), buy(u1.id, 1), buy(u1.id, 1)], null)).toEqual({ kind: "overLimit", userIds: [u1.id] });
    // 5 units, 2 sold: 3 more is more than the sale has.
    expect(await lifecycle.placeFlashBatch(terms, [buy(u2.id, 3), buy(u1.id, 1)], null)).toEqual({ kind: "saleRefused" });
    expect(await state()).toEqual({ sold: 2, stock: 8, orders: 1 });
    // The SKU has fewer units than the sale thinks, then its product is unlisted.
    await db.update(skus).set({ stock: 1 }).where(eq(skus.id, p.skus[0]!.id));
    const short = await lifecycle.placeFlashBatch(terms, [buy(u2.id, 2)], null);
    expect(short.kind === "stockRefused" && short.error.code).toBe("OUT_OF_STOCK");
    await db.execute(sql`update products set listed = false where id = ${p.id}`);
    const gone = await lifecycle.placeFlashBatch(terms, [buy(u2.id, 1)], null);
    expect(gone.kind === "stockRefused" && gone.error.code).toBe("NOT_FOUND");
    expect(await state()).toEqual({ sold: 2, stock: 1, orders: 1 });
    await db.execute(sql`update products set listed = true where id = ${p.id}`);
    // A buy naming another buyer's address is left out, and the rest of its batch placed.
    const [foreign, own] = [buy(u2.id, 1, undefined, addressOf.get(u1.id)), buy(u1.id, 1)];
    const mixed = await lifecycle.placeFlashBatch(terms, [foreign, own], null);
    expect(mixed).toMatchObject({ kind: "placed", conflicts: [], voided: [], noAddress: [{ orderId: foreign.orderId }] });
    expect(mixed.kind === "placed" && [...mixed.orders.values()].map((o) => [o.id, o.address])).toEqual([
      [own.orderId, { name: "Li", phone: "13800138000", province: "Z", city: "H", district: "X", detail: "1" }],
    ]);
    expect(await state()).toEqual({ sold: 3, stock: 0, orders: 2 });
    await db.update(skus).set({ stock: 1 }).where(eq(skus.id, p.skus[0]!.id));
    // A key that already names an order (the gate forgot it): that buy is a conflict, the others are placed.
    const out = await lifecycle.placeFlashBatch(terms, [buy(u1.id, 1, "again"), buy(u2.id, 1)], null);
    expect(out).toMatchObject({ kind: "placed", conflicts: [{ userId: u1.id, requestKey: "again" }], voided: [] });
    expect(out.kind === "placed" && [...out.orders.values()].map((o) => o.totalFen)).toEqual([99]);
    expect(await state()).toEqual({ sold: 4, stock: 0, orders: 3 });
    expect((await lifecycle.byRequestKey(u1.id, "again"))?.id).toBe(first.orderId);
  });

  it("leaves out of a batch the takes a reconcile gave back before it committed, and writes the rest", async () => {
    const db = database.db;
    const { tag, p, sale } = await smallSale("V");
    const u = await createUser(db, { nickname: "v" });
    const addressId = await newAddress(u.id);
    const buys = ["a", "b", "c"].map((k) => ({ orderId: `${tag}${k}`.padEnd(32, "0"), userId: u.id, quantity: 1, requestKey: k, addressId, idempotency: { scope: `${u.id} buy`, hash: "h" } }));
    const terms = { id: sale.id, streamId: "s", skuId: p.skus[0]!.id, priceFen: 99, perUserLimit: 3, product: { productId: p.id, name: "P", specs: {}, cover: "" } };
    const asked: string[][] = [];
    const out = await lifecycle.placeFlashBatch(terms, buys, (ids) => {
      asked.push(ids);
      return Promise.resolve(new Set(ids.filter((id) => id === buys[1]!.orderId)));
    });
    expect(out).toMatchObject({ kind: "placed", conflicts: [], voided: [{ orderId: buys[1]!.orderId }] });
    expect(out.kind === "placed" && [...out.orders.keys()].sort()).toEqual([buys[0]!.orderId, buys[2]!.orderId].sort());
    // Asked once, for the whole batch, with the fence held and before anything was written.
    expect(asked).toEqual([buys.map((b) => b.orderId)]);
    const [s] = await db.select({ sold: flashSales.sold }).from(flashSales).where(eq(flashSales.id, sale.id));
    expect(s!.sold).toBe(2);
    expect((await db.select({ id: orders.id }).from(orders).where(eq(orders.id, buys[1]!.orderId))).length).toBe(0);
  });

  it("makes stale takes void before it waits for the fence, leaves them void while the fence is busy, and gives each back once", async () => {
    const { tag, sale } = await smallSale("W");
    const gate = createFlashGate(redis, keys);
    await checkout.open(sale);
    // Takes of a node that died before writing them.
    const ids = [`${tag}a`.padEnd(32, "0"), `${tag}b`.padEnd(32, "0")];
    for (const [i, id] of ids.entries()) await gate.take(sale.id, `u${i}`, 1, 3, { field: `u${i}\nk`, hash: "h" }, id);
    expect(await gate.voidTakes(sale.id, 60_000, ids)).toEqual([]);
    expect(await gate.missing(sale.id, ids)).toEqual(new Set());
    await new Promise((r) => setTimeout(r, 1100)); // staleMs
    await database.db.transaction(async (tx) => {
      // A batch holds the fence: the reconcile makes the takes void (a batch asking now leaves them out), gives up waiting, and gives nothing back.
      await lifecycle.lockSale(tx, sale.id, "shared");
      await checkout.reconcile();
      expect(await gate.missing(sale.id, ids)).toEqual(new Set(ids));
      expect((await gate.pending(sale.id)).map((t) => t.void)).toEqual([true, true]);
      expect(await gate.left(sale.id)).toBe(3);
    });
    await checkout.reconcile();
    expect(await gate.left(sale.id)).toBe(5);
    expect(await gate.release(sale.id, ids.map((orderId) => ({ orderId, refusal: null })))).toBe(0);
    expect(await checkout.audit(sale.id)).toMatchObject({ agree: true, pending: 0 });
  });

  it("locks a batch's rows in the order a cancel does (buyers, then the sale, then the SKU), so the two never deadlock", async () => {
    const db = database.db;
    const { tag, p, sale } = await smallSale("L");
    const u = await createUser(db, { nickname: "l" });
    await db.insert(flashBuyers).values({ flashSaleId: sale.id, userId: u.id, bought: 0 });
    const buy = { orderId: `${tag}l`.padEnd(32, "0"), userId: u.id, quantity: 1, requestKey: "l", addressId: await newAddress(u.id), idempotency: { scope: `${u.id} buy`, hash: "h" } };
    const terms = { id: sale.id, streamId: "s", skuId: p.skus[0]!.id, priceFen: 99, perUserLimit: 3, product: { productId: p.id, name: "P", specs: {}, cover: "" } };
    const probe = postgres(databaseUrl, { max: 1, onnotice: () => {} });
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    try {
      // A cancel of this buyer's earlier order holds their row (and would take the sale's next).
      const cancel = db.transaction(async (tx) => {
        await tx.update(flashBuyers).set({ bought: sql`${flashBuyers.bought}` }).where(eq(flashBuyers.userId, u.id));
        locked();
        await held;
      });
      await isLocked;
      const batch = lifecycle.placeFlashBatch(terms, [buy], () => Promise.resolve(new Set()));
      // The batch waits for the buyer's row...
      for (let i = 0; ; i++) {
        const [w] = await probe<{ n: number }[]>`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and query like '%pinlive_place_flash_batch%'`;
        if (w!.n > 0) break;
        if (i > 200) throw new Error("the batch never waited for the buyer's row");
        await new Promise((r) => setTimeout(r, 20));
      }
      // ...before it has touched the sale's row or the SKU's: the cancel can still take both.
      await probe.begin(async (t) => {
        await t`select id from flash_sales where id = ${sale.id} for update nowait`;
        await t`select id from skus where id = ${p.skus[0]!.id} for update nowait`;
      });
      release();
      await cancel;
      expect(await batch).toMatchObject({ kind: "placed", conflicts: [], voided: [] });
    } finally {
      release();
      await probe.end();
    }
  });

  async function run(seed: number) {
    const r = prng(seed);
    const db = database.db;
    const tag = randomBytes(3).toString("hex");
    const product = (stock: number, priceFen: number) =>
      catalogRepo.createProduct(db, { sn: `F-${tag}-${stock}-${priceFen}`, name: "P", brief: "", pictures: [], categoryId: null, listed: true, skus: [{ specs: {}, priceFen, stock }] });
    const a = await product(12, 500);
    const b = await product(8, 1200);
    const skuIds = [a.skus[0]!.id, b.skus[0]!.id];
    const initial = new Map([[skuIds[0]!, 12], [skuIds[1]!, 8]]);
    const [sale] = await db
      .insert(flashSales)
      .values({ id: `fs-${tag}`, streamId: "s", skuId: skuIds[0]!, productId: a.id, priceFen: 99, quantity: 6, perUserLimit: 2, endsAt: new Date(Date.now() + 3600_000) })
      .returning();
    await checkout.open(sale!);
    // The coupon's stream sells both products; every buy-now names it.
    const host = await createUser(db, { nickname: "host" });
    const [stream] = await db.insert(liveStreams).values({ id: `s-${tag}`, hostUserId: host.id, title: "fuzz" }).returning();
    await db.insert(streamProducts).values([a.id, b.id].map((productId, position) => ({ streamId: stream!.id, productId, position })));
    const [coupon] = await db
      .insert(coupons)
      .values({ id: `c-${tag}`, streamId: stream!.id, title: "¥1", discountFen: 100, quantity: 100, expiresAt: new Date(Date.now() + 3600_000), createdBy: "t" })
      .returning();
    const users = await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        const u = await createUser(db, { nickname: `u${i}` });
        const addr = await addressRepo.create(db, u.id, { name: "Li", phone: "13800138000", province: "Z", city: "H", district: "X", detail: "1", isDefault: true });
        await db.insert(couponClaims).values({ couponId: coupon!.id, userId: u.id });
        return { id: u.id, addressId: addr.id };
      }),
    );
    const placed: { id: string; userId: string }[] = [];
    const unsold = new Set<string>();
    let key = 0;

    const step = async () => {
      const u = r.pick(users);
      const o = placed.length ? r.pick(placed) : null;
      const roll = r.int(100);
      if (roll < 25 || !o) {
        const order = await lifecycle.place(u.id, {
          lines: [{ skuId: r.pick(skuIds), quantity: 1 + r.int(3) }],
          addressId: u.addressId,
          source: "buy_now",
          streamId: stream!.id,
          couponId: r.int(3) === 0 ? coupon!.id : undefined,
        });
        placed.push({ id: order.id, userId: u.id });
      } else if (roll < 40) {
        const k = `k${++key}`;
        const order = await checkout.buy(u.id, sale!.id, { quantity: 1 + r.int(2), addressId: u.addressId, request: { key: k, scope: `${u.id} buy`, hash: randomBytes(16).toString("hex") } });
        placed.push({ id: order.id, userId: u.id });
      } else if (roll < 55) await lifecycle.pay(o.id, { paidAt: new Date(), transactionId: `t-${o.id}` });
      else if (roll < 70) await lifecycle.cancel(r.int(4) === 0 ? null : o.userId, o.id, "fuzz");
      else if (roll < 76) await lifecycle.ship(o.id, "SF", "1");
      else if (roll < 80) await lifecycle.confirm(o.userId, o.id);
      else if (roll < 85) await lifecycle.run((w) => lifecycle.refundAll(w, o.id));
      else if (roll < 92) {
        const moved = await lifecycle.run((w) => lifecycle.unsell(w, o.id));
        for (const m of moved) unsold.add(m.id);
      } else {
        // As payments does: what is left to refund is read under the order's lock.
        const part = r.next();
        await lifecycle.run(async (w) => {
          const [row] = await w.tx.select({ total: orders.totalFen, refunded: orders.refundedFen }).from(orders).where(eq(orders.id, o.id)).for("update");
          const amount = Math.min(row!.total - row!.refunded, 1 + Math.floor(part * row!.total));
          if (amount > 0) await lifecycle.refundSettled(w, o.id, amount);
        });
      }
    };
    let remaining = 240;
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        while (remaining-- > 0) {
          try {
            await step();
          } catch (err) {
            if (!(err instanceof AppError && EXPECTED.has(err.code))) throw new Error(`seed ${seed}: ${String(err)}`, { cause: err });
          }
        }
      }),
    );

    // Every status change is a row of the table (a place is the only insert).
    const log = await db.execute<{ order_id: string; old: OrderStatus | null; new: OrderStatus }>(sql`select order_id, old, new from status_log`);
    const mine = new Set(placed.map((p) => p.id));
    const changes = ((Array.isArray(log) ? log : (log as { rows: typeof log }).rows) as { order_id: string; old: OrderStatus | null; new: OrderStatus }[]).filter((c) => mine.has(c.order_id));
    const outside = changes.filter((c) => !["place", "pay", "cancel", "shortenHold", "ship", "confirm", "refundAll", "unsell", "refundSettled", "refundDone"].some((on) => isTransition(c.old, on as never, c.new)));
    expect(outside, `seed ${seed}`).toEqual([]);
    expect(changes.filter((c) => c.old === null).length).toBe(placed.length);

    // Stock: what left each SKU is exactly the units of the orders that still hold it.
    const rows = await db.select({ id: orders.id, status: orders.status, userId: orders.userId, couponId: orders.couponId, total: orders.totalFen, refunded: orders.refundedFen, skuId: orderItems.skuId, quantity: orderItems.quantity, flashSaleId: orderItems.flashSaleId }).from(orders).innerJoin(orderItems, eq(orderItems.orderId, orders.id)).where(sql`${orders.id} in ${placed.length ? placed.map((p) => p.id) : [""]}`);
    const holds = (x: (typeof rows)[number]) => x.status !== "cancelled" && !unsold.has(x.id);
    for (const skuId of skuIds) {
      const [now] = await db.select({ stock: skus.stock }).from(skus).where(eq(skus.id, skuId));
      const held = rows.filter((x) => x.skuId === skuId && holds(x)).reduce((n, x) => n + x.quantity, 0);
      expect(initial.get(skuId)! - now!.stock, `seed ${seed}: stock of ${skuId}`).toBe(held);
      expect(now!.stock).toBeGreaterThanOrEqual(0);
    }
    // Flash units: the sale's sold and each buyer's bought are the units of their live flash orders.
    const flash = rows.filter((x) => x.flashSaleId === sale!.id && x.status !== "cancelled");
    const [s] = await db.select({ sold: flashSales.sold }).from(flashSales).where(eq(flashSales.id, sale!.id));
    expect(s!.sold, `seed ${seed}: sold`).toBe(flash.reduce((n, x) => n + x.quantity, 0));
    expect(s!.sold).toBeLessThanOrEqual(6);
    for (const b of await db.select().from(flashBuyers).where(eq(flashBuyers.flashSaleId, sale!.id))) {
      expect(b.bought, `seed ${seed}: ${b.userId}'s units`).toBe(flash.filter((x) => x.userId === b.userId).reduce((n, x) => n + x.quantity, 0));
      expect(b.bought).toBeLessThanOrEqual(2);
    }
    // ... and the gate agrees once nothing is pending.
    await checkout.reconcile();
    expect(await checkout.audit(sale!.id)).toMatchObject({ agree: true, pending: 0 });
    // Coupon use: a claim is used by at most one live order, and every live order with the coupon holds its claim.
    for (const c of await db.select().from(couponClaims).where(eq(couponClaims.couponId, coupon!.id))) {
      const live = rows.filter((x) => x.couponId === coupon!.id && x.userId === c.userId && x.status !== "cancelled");
      expect(live.length, `seed ${seed}: coupon of ${c.userId}`).toBeLessThanOrEqual(1);
      expect(c.usedOrderId).toBe(live[0]?.id ?? null);
    }
    // Refunds never exceed what was paid; placed and cancelled were each told once (at most once for cancel).
    for (const x of rows) expect(x.refunded).toBeLessThanOrEqual(x.total);
    for (const p of placed) {
      expect(told.placed.get(p.id)).toBe(1);
      const cancelled = rows.find((x) => x.id === p.id)!.status === "cancelled";
      expect(told.cancelled.get(p.id) ?? 0).toBe(cancelled ? 1 : 0);
    }
  }
});
