// The orders domain over both database drivers: PostgreSQL and the embedded PGlite default.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { catalogRepo } from "../catalog/catalog.repo.js";
import type { Database } from "../db/client.js";
import { databaseDrivers } from "../../test/support/drivers.js";
import { flashSales } from "../db/flash.schema.js";
import { createUser } from "../db/users.repo.js";
import { addressRepo } from "../shopping/address.repo.js";
import { cartRepo } from "../shopping/cart.repo.js";
import { createLogger } from "../log.js";
import { createLifecycle } from "./lifecycle.js";
import { createOrderEvents } from "./order-events.js";
import { createOrders, type Orders } from "./orders.service.js";

const drivers = databaseDrivers;

const address = { name: "Li", phone: "13800138000", province: "Zhejiang", city: "Hangzhou", district: "Xihu", detail: "1 Rd", isDefault: true };

describe.each(drivers)("orders on %s", (_name, setup) => {
  let database: Database;
  let drop: () => Promise<void>;
  let orders: Orders;
  let sn = 0;

  beforeAll(async () => {
    const s = await setup();
    drop = s.drop;
    database = await s.open();
    const log = createLogger("silent", "test");
    orders = createOrders({ db: database.db, lifecycle: createLifecycle({ db: database.db, events: createOrderEvents(log), log, payTimeoutSec: 900, holds: { maxUnpaidOrders: 5, maxUnpaidUnitsPerSku: 99 }, pricing: { maxTotalFen: 100_000_000, couponMaxDiscountPercent: 50 } }), pricing: { maxTotalFen: 100_000_000, couponMaxDiscountPercent: 50 } });
  });
  afterAll(async () => {
    await database?.close();
    await drop?.();
  });

  async function buyer() {
    const user = await createUser(database.db, { nickname: "Buyer" });
    const a = await addressRepo.create(database.db, user.id, address);
    return { userId: user.id, addressId: a.id };
  }
  async function product(priceFen: number, stock: number) {
    const p = await catalogRepo.createProduct(database.db, { sn: `O-${sn++}`, name: "P", brief: "", pictures: [], categoryId: null, listed: true, skus: [{ specs: {}, priceFen, stock }] });
    return { productId: p.id, skuId: p.skus[0]!.id };
  }
  const stock = async (productId: string) => (await catalogRepo.getProduct(database.db, productId)).stock;

  it("takes stock in the order's transaction and returns it once on cancel", async () => {
    const u = await buyer();
    const p = await product(500, 3);
    const o = await orders.place(u.userId, { lines: [{ skuId: p.skuId, quantity: 2 }], addressId: u.addressId, source: "buy_now" });
    expect(o).toMatchObject({ status: "pending_payment", totalFen: 1000 });
    expect(await stock(p.productId)).toBe(1);
    await expect(orders.place(u.userId, { lines: [{ skuId: p.skuId, quantity: 2 }], addressId: u.addressId, source: "buy_now" })).rejects.toMatchObject({ code: "OUT_OF_STOCK" });
    await orders.cancel(u.userId, o.id, "test");
    await expect(orders.cancel(u.userId, o.id, "test")).rejects.toMatchObject({ code: "ORDER_STATE" });
    expect(await stock(p.productId)).toBe(3);
  });

  it("rolls everything back when one line fails or the total changed", async () => {
    const u = await buyer();
    const a = await product(100, 5);
    const b = await product(200, 0);
    await expect(
      orders.place(u.userId, { lines: [{ skuId: a.skuId, quantity: 1 }, { skuId: b.skuId, quantity: 1 }], addressId: u.addressId, source: "buy_now" }),
    ).rejects.toMatchObject({ code: "OUT_OF_STOCK" });
    await expect(orders.place(u.userId, { lines: [{ skuId: a.skuId, quantity: 1 }], addressId: u.addressId, source: "buy_now", expectedTotalFen: 99 })).rejects.toMatchObject({
      code: "PRICE_CHANGED",
      details: { totalFen: 100 },
    });
    expect(await stock(a.productId)).toBe(5);
  });

  it("checks out the cart and empties those lines; one order per request key", async () => {
    const u = await buyer();
    const p = await product(300, 10);
    await cartRepo.add(database.db, u.userId, p.skuId, 2);
    const first = await orders.place(u.userId, { lines: [{ skuId: p.skuId, quantity: 2 }], addressId: u.addressId, source: "cart", requestKey: "k1" });
    const again = await orders.place(u.userId, { lines: [{ skuId: p.skuId, quantity: 2 }], addressId: u.addressId, source: "cart", requestKey: "k1" });
    expect(again.id).toBe(first.id);
    expect(await cartRepo.lines(database.db, u.userId)).toEqual([]);
    expect(await stock(p.productId)).toBe(8);
  });

  it("holds a flash sale's quantity and per-user limit in the database itself", async () => {
    const p = await product(9900, 100);
    const [sale] = await database.db
      .insert(flashSales)
      .values({ id: `fs-${sn++}`, streamId: "s", skuId: p.skuId, productId: p.productId, priceFen: 990, quantity: 3, perUserLimit: 2, endsAt: new Date(Date.now() + 60_000) })
      .returning();
    const flash = { id: sale!.id, priceFen: 990, perUserLimit: 2 };
    const a = await buyer();
    const b = await buyer();
    const o1 = await orders.place(a.userId, { lines: [{ skuId: p.skuId, quantity: 2 }], addressId: a.addressId, source: "flash", flash });
    expect(o1.totalFen).toBe(1980);
    await expect(orders.place(a.userId, { lines: [{ skuId: p.skuId, quantity: 1 }], addressId: a.addressId, source: "flash", flash })).rejects.toMatchObject({ code: "LIMIT_EXCEEDED" });
    await expect(orders.place(b.userId, { lines: [{ skuId: p.skuId, quantity: 2 }], addressId: b.addressId, source: "flash", flash })).rejects.toMatchObject({ code: "SOLD_OUT" });
    await orders.place(b.userId, { lines: [{ skuId: p.skuId, quantity: 1 }], addressId: b.addressId, source: "flash", flash });
    await orders.cancel(a.userId, o1.id, "changed my mind");
    await orders.place(b.userId, { lines: [{ skuId: p.skuId, quantity: 1 }], addressId: b.addressId, source: "flash", flash });
    expect(await stock(p.productId)).toBe(98);
  });
});
