// One contract suite over both database drivers: PostgreSQL and the embedded PGlite default.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../db/client.js";
import { databaseDrivers } from "../../test/support/drivers.js";
import { catalogRepo } from "./catalog.repo.js";

const drivers = databaseDrivers;

describe.each(drivers)("catalog repository on %s", (_name, setup) => {
  let database: Database;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const s = await setup();
    drop = s.drop;
    database = await s.open();
  });
  afterAll(async () => {
    await database?.close();
    await drop?.();
  });

  const sku = (priceFen: number, stock: number, specs: Record<string, string> = {}) => ({ specs, priceFen, stock });
  const product = (sn: string, over: Partial<Parameters<typeof catalogRepo.createProduct>[1]> = {}) => ({
    sn,
    name: `Product ${sn}`,
    brief: "",
    pictures: [],
    categoryId: null,
    listed: true,
    skus: [sku(1000, 1)],
    ...over,
  });

  it("creates a product with SKUs and summarises price and stock", async () => {
    const cat = await catalogRepo.createCategory(database.db, { name: "Tea", parentId: null, iconUrl: "", sort: 1 });
    const p = await catalogRepo.createProduct(
      database.db,
      product("TEA-1", { categoryId: cat.id, pictures: ["https://img.test/a.jpg", "https://img.test/b.jpg"], skus: [sku(23800, 2, { w: "500 g" }), sku(12800, 5, { w: "250 g" })] }),
    );
    expect(p).toMatchObject({ sn: "TEA-1", priceFen: 12800, price: 128, stock: 7, cover: "https://img.test/a.jpg", categoryId: cat.id });
    expect(p.skus.map((s) => s.priceFen)).toEqual([12800, 23800]);
  });

  it("refuses a duplicate sn with CONFLICT and writes nothing", async () => {
    await expect(catalogRepo.createProduct(database.db, product("TEA-1"))).rejects.toMatchObject({ code: "CONFLICT" });
    const page = await catalogRepo.listProducts(database.db, { q: "TEA-1", page: 1, pageSize: 10 });
    expect(page.total).toBe(1);
  });

  it("searches, filters, pages, and hides delisted products from the public", async () => {
    for (let i = 0; i < 5; i++) await catalogRepo.createProduct(database.db, product(`FAN-${i}`, { name: `Silk fan ${i}` }));
    const hidden = await catalogRepo.createProduct(database.db, product("FAN-HIDDEN", { name: "Silk fan hidden", listed: false }));
    const page1 = await catalogRepo.listProducts(database.db, { q: "silk", page: 1, pageSize: 2 });
    const page3 = await catalogRepo.listProducts(database.db, { q: "silk", page: 3, pageSize: 2 });
    expect(page1.total).toBe(5);
    expect(page1.items).toHaveLength(2);
    expect(page3.items).toHaveLength(1);
    expect((await catalogRepo.listProducts(database.db, { q: "silk", page: 1, pageSize: 10, includeUnlisted: true })).total).toBe(6);
    expect((await catalogRepo.listProducts(database.db, { q: "100%", page: 1, pageSize: 10 })).total).toBe(0);
    await expect(catalogRepo.getProduct(database.db, hidden.id)).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect((await catalogRepo.getProduct(database.db, hidden.id, true)).listed).toBe(false);
  });

  it("orders hot products by sales and keeps categories in use", async () => {
    const cat = await catalogRepo.createCategory(database.db, { name: "Busy", parentId: null, iconUrl: "", sort: 2 });
    await catalogRepo.createProduct(database.db, product("BUSY-1", { categoryId: cat.id }));
    await expect(catalogRepo.deleteCategory(database.db, cat.id)).rejects.toMatchObject({ code: "CONFLICT" });
    const hot = await catalogRepo.hotProducts(database.db, 3);
    expect(hot).toHaveLength(3);
  });

  it("never lets stock go below zero, whatever the caller", async () => {
    const p = await catalogRepo.createProduct(database.db, product("STOCK-1"));
    await expect(catalogRepo.updateSku(database.db, p.skus[0]!.id, { stock: -1 })).rejects.toThrow();
    expect((await catalogRepo.getProduct(database.db, p.id)).stock).toBe(1);
  });
});
