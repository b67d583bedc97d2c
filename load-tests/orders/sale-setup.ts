import { adminToken } from "../../test/support/admin.js";
import type { HttpClient } from "./http-client.js";
import type { Options } from "./options.js";

export type Buyer = { token: string; userId: string; addressId: string };

export type Sale = {
  saleId: string;
  /** A smaller sale on another SKU, rushed first and not measured: the server's warm-up (JIT, pooled connections' prepared statements). */
  warmUp: { saleId: string; quantity: number };
  quantity: number;
  /** The hot SKU: stock = the sale's quantity. */
  skuId: string;
  /** Another SKU with 10M stock, hammered by the PostgreSQL ceiling. */
  ceilingSkuId: string;
  ceilingStock: number;
  /** A hot SKU outside any flash sale, checked out from carts. */
  cartSkuId: string;
  cartStock: number;
  buyers: Buyer[];
};

type Product = { id: string; skus: { id: string }[] };
const CEILING_STOCK = 10_000_000;
const CART_STOCK = 1_000_000;
/** Units of the warm-up sale (fewer when the buyers cannot take that many). */
const WARM_UP_UNITS = 1000;
const ADDRESS = { name: "Li", phone: "13800138000", province: "Zhejiang", city: "Hangzhou", district: "Xihu", detail: "1 Rd" };

/** Runs `task(i)` for i in 0..n-1 with at most `width` in flight; the first failure rejects. */
async function inParallel(n: number, width: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, width) }, async () => {
      while (next < n) await task(next++);
    }),
  );
}

/** Everything the rush needs, made through the public API (the admin alone straight in the database). */
export async function setUpSale(http: HttpClient, databaseUrl: string, o: Options, log: (msg: string) => void): Promise<Sale> {
  const admin = await adminToken(databaseUrl);
  const sku = (stock: number) => ({ specs: {}, priceFen: 9900, stock });
  const hot = await http.create<Product>("/v1/admin/products", { sn: "BENCH-1", name: "Hot item", skus: [sku(o.quantity)] }, admin);
  const ceiling = await http.create<Product>("/v1/admin/products", { sn: "BENCH-2", name: "Ceiling item", skus: [sku(CEILING_STOCK)] }, admin);
  const cart = await http.create<Product>("/v1/admin/products", { sn: "BENCH-3", name: "Cart item", skus: [sku(CART_STOCK)] }, admin);
  const warmUpUnits = Math.min(WARM_UP_UNITS, o.users * o.limit);
  const warm = await http.create<Product>("/v1/admin/products", { sn: "BENCH-4", name: "Warm-up item", skus: [sku(warmUpUnits)] }, admin);
  const host = await http.create<{ token: string; userId: string }>("/v1/dev/sessions", { nickname: "host" });
  const stream = await http.create<{ id: string }>("/v1/streams", { title: "bench", hostUserId: host.userId }, admin);
  const attach = await fetch(`http://${http.base}/v1/streams/${stream.id}/products`, {
    method: "PUT",
    headers: { "content-type": "application/json", authorization: `Bearer ${host.token}` },
    body: JSON.stringify({ productIds: [hot.id, warm.id] }),
  });
  if (attach.status !== 200) throw new Error(`attach product: ${attach.status}`);
  const skuId = hot.skus[0]!.id;
  const startSale = (sku: string, quantity: number) =>
    http.create<{ id: string; left: number }>(`/v1/streams/${stream.id}/flash-sales`, { skuId: sku, priceFen: 1990, quantity, perUserLimit: o.limit, durationSec: 3600 }, host.token);
  const sale = await startSale(skuId, o.quantity);
  const warmUp = await startSale(warm.skus[0]!.id, warmUpUnits);
  log(`sale ${sale.id}: ${sale.left} units, ${o.limit} per buyer; creating ${o.users} buyers`);
  const buyers: Buyer[] = new Array<Buyer>(o.users);
  await inParallel(o.users, 16, async (i) => {
    const s = await http.create<{ token: string; userId: string }>("/v1/dev/sessions", { nickname: `u${i}` });
    const address = await http.create<{ id: string }>("/v1/addresses", ADDRESS, s.token);
    buyers[i] = { token: s.token, userId: s.userId, addressId: address.id };
  });
  return { saleId: sale.id, warmUp: { saleId: warmUp.id, quantity: warmUpUnits }, quantity: o.quantity, skuId, ceilingSkuId: ceiling.skus[0]!.id, ceilingStock: CEILING_STOCK, cartSkuId: cart.skus[0]!.id, cartStock: CART_STOCK, buyers };
}
