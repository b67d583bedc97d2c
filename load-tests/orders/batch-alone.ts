// What one flash batch costs on its own: the lifecycle's `placeFlashBatch` called directly (no HTTP,
// no gate, no timers), B buys per batch, two batches in flight, against a fresh database on the
// local PostgreSQL. Prints this process's CPU per order (building the call, encoding it, reading
// the answer, building the orders) and, when PostgreSQL runs on this machine, its processes' CPU
// per order (read from /proc). `npm run bench:flash-batch -- [--batch B] [--orders N]`.
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { createTestDatabase } from "../../test/support/databases.js";
import { catalogRepo } from "../../src/catalog/catalog.repo.js";
import { openDatabase } from "../../src/db/client.js";
import { flashSales } from "../../src/db/flash.schema.js";
import { createUser } from "../../src/db/users.repo.js";
import { createLogger } from "../../src/log.js";
import type { FlashBuy } from "../../src/orders/flash-batch.js";
import { createLifecycle } from "../../src/orders/lifecycle.js";
import { createOrderEvents } from "../../src/orders/order-events.js";
import { newOrderId } from "../../src/orders/order-id.js";
import { addressRepo } from "../../src/shopping/address.repo.js";
import { intFlag } from "../shared/flags.js";

const USAGE = "usage: npm run bench:flash-batch -- [--batch B (1..500, default 20)] [--orders N (1,000..1,000,000, default 20,000)]";
const IN_FLIGHT = 2;
const BUYERS = 4000;

/** CPU seconds of every process named postgres on this machine (0 when there is none). */
function postgresCpuSec(): number {
  let ticks = 0;
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      if (!stat.includes("(postgres)")) continue;
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone meanwhile
    }
  }
  return ticks / 100;
}

const { values } = parseArgs({ options: { batch: { type: "string" }, orders: { type: "string" } } });
const batch = intFlag("batch", values.batch, 20, 1, 500, USAGE);
const total = intFlag("orders", values.orders, 20_000, 1_000, 1_000_000, USAGE);

const created = await createTestDatabase("pinlive_batch");
const database = await openDatabase({ url: created.url, dataDir: "" });
try {
  const db = database.db;
  const log = createLogger("silent", "bench");
  const events = createOrderEvents(log);
  events.seal();
  const lifecycle = createLifecycle({ db, events, log, payTimeoutSec: 900, holds: { maxUnpaidOrders: 5, maxUnpaidUnitsPerSku: 99 }, pricing: { maxTotalFen: 100_000_000, couponMaxDiscountPercent: 50 } });
  const tag = randomBytes(3).toString("hex");
  const product = await catalogRepo.createProduct(db, { sn: `B-${tag}`, name: "Hot product", brief: "", pictures: ["/media/x.jpg"], categoryId: null, listed: true, skus: [{ specs: { color: "red" }, priceFen: 500, stock: 10_000_000 }] });
  const skuId = product.skus[0]!.id;
  const [sale] = await db.insert(flashSales).values({ id: `fb-${tag}`, streamId: "s", skuId, productId: product.id, priceFen: 99, quantity: 10_000_000, perUserLimit: 1000, endsAt: new Date(Date.now() + 3600_000) }).returning();
  const address = { name: "Li Lei", phone: "13800138000", province: "Zhejiang", city: "Hangzhou", district: "Xihu", detail: "1 Wensan Road", isDefault: true };
  const buyers: { userId: string; addressId: string }[] = [];
  for (let i = 0; i < BUYERS; i += 100) {
    const made = Array.from({ length: 100 }, async (_, j) => {
      const u = await createUser(db, { nickname: `b${i + j}` });
      return { userId: u.id, addressId: (await addressRepo.create(db, u.id, address)).id };
    });
    buyers.push(...(await Promise.all(made)));
  }
  const terms = { id: sale!.id, streamId: "s", skuId, priceFen: 99, perUserLimit: 1000, product: { productId: product.id, name: "Hot product", specs: { color: "red" }, cover: "/media/x.jpg" } };
  let next = 0;
  const buys = (): FlashBuy[] =>
    Array.from({ length: batch }, () => {
      const b = buyers[next++ % BUYERS]!;
      const key = `k${next}`;
      return { orderId: newOrderId(), userId: b.userId, quantity: 1, requestKey: key, addressId: b.addressId, idempotency: { scope: `${b.userId} POST /v1/flash-sales/${terms.id}/buy`, hash: "a".repeat(64) } };
    });
  const write = async (batches: number) => {
    for (let i = 0; i < batches; i++) {
      const out = await lifecycle.placeFlashBatch(terms, buys(), null);
      if (out.kind !== "placed" || out.orders.size !== batch) throw new Error(`a batch was not placed whole: ${JSON.stringify(out)}`);
    }
  };
  await write(50); // warm-up: JIT, prepared statements
  const perWorker = Math.ceil(total / batch / IN_FLIGHT);
  const orders = perWorker * IN_FLIGHT * batch;
  const [cpu0, pg0, t0] = [process.cpuUsage(), postgresCpuSec(), performance.now()];
  await Promise.all(Array.from({ length: IN_FLIGHT }, () => write(perWorker)));
  const [cpu, pg, sec] = [process.cpuUsage(cpu0), postgresCpuSec() - pg0, (performance.now() - t0) / 1000];
  console.log(`flash batches alone: ${orders.toLocaleString("en")} orders in batches of ${batch}, ${IN_FLIGHT} in flight, ${sec.toFixed(2)} s → ${Math.round(orders / sec).toLocaleString("en")} orders/s`);
  console.log(`  this process's CPU per order   ${((cpu.user + cpu.system) / orders).toFixed(1)} µs (user ${(cpu.user / orders).toFixed(1)}, system ${(cpu.system / orders).toFixed(1)})`);
  console.log(`  PostgreSQL's CPU per order     ${pg > 0 ? `${((pg * 1e6) / orders).toFixed(1)} µs (every postgres process on this machine)` : "not measured (PostgreSQL is not on this machine)"}`);
  console.log(JSON.stringify({ bench: "flash-batch", batch, inFlight: IN_FLIGHT, orders, ordersPerSec: Math.round(orders / sec), cpuUsPerOrder: (cpu.user + cpu.system) / orders, postgresCpuUsPerOrder: pg > 0 ? (pg * 1e6) / orders : null }));
} finally {
  await database.close();
  await created.drop();
}
