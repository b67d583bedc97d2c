// Case 22: a flash sale rushed again and again while most buyers never pay: their orders time out
// and the units go back on sale, to be rushed once more. Sampled all along and checked at the end:
// never more units held or sold than the sale has, each buyer within the limit, the gate and
// PostgreSQL agree, and every unit ends paid exactly once.
import { expect } from "vitest";
import { sleep, waitUntil } from "../support/clients.js";
import { buyOnce, flashTruth, setUpFlashSale, type Attempt } from "../support/flash.js";
import { wechatPayNotifier } from "./app-support/notifier.js";
import { sandboxSecrets } from "../support/wechat.js";
import { faultCase } from "./fault-case.js";
import { useCaseServer } from "./app-support/case-server.js";
import { orderTruth } from "./app-support/orders.js";

const QUANTITY = 30;
const LIMIT = 2;
const TIMEOUT_SEC = 3;
/** Share of won orders the buyer pays (the rest are left to time out). */
const PAY_SHARE = 0.35;
const RUSH_MS = 40_000;

const ctx = useCaseServer({ ORDER_PAY_TIMEOUT_SEC: String(TIMEOUT_SEC) });

faultCase(22, "flash oversell with unpaid timeouts", async (log) => {
  const { server, services } = ctx;
  const sale = await setUpFlashSale(server.url, services.databaseUrl, { quantity: QUANTITY, limit: LIMIT, buyers: 60 });
  const truth = flashTruth(services.databaseUrl, services.redisPrefix);
  const { sql, close } = orderTruth(services.databaseUrl);
  const notifier = wechatPayNotifier(server.url, await sandboxSecrets(services.databaseUrl));
  try {
    const held = () =>
      truth.read(sale.saleId).then((t) => ({ t, paid: t.orders.filter((o) => o.status === "paid").reduce((n, o) => n + o.units, 0) }));
    const attempts: Attempt[] = [];
    let paidOrders = 0;
    let worst = { held: 0, sold: 0, perUser: 0, minStock: Infinity };
    let done = false;
    const sampler = (async () => {
      while (!done) {
        const { t } = await held();
        worst = { held: Math.max(worst.held, t.units), sold: Math.max(worst.sold, t.sale.sold), perUser: Math.max(worst.perUser, ...t.perUser.values(), 0), minStock: Math.min(worst.minStock, t.skuStock) };
        await sleep(150);
      }
    })();
    const deadline = Date.now() + RUSH_MS;
    let n = 0;
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        while (Date.now() < deadline && !done) {
          const buyer = sale.buyers[Math.floor(Math.random() * sale.buyers.length)]!;
          const a = await buyOnce(server.url, sale.saleId, buyer, `r-${++n}`);
          attempts.push(a);
          if (a.status === 201 && Math.random() < PAY_SHARE) {
            const [o] = await sql<{ total_fen: number }[]>`select total_fen from orders where id = ${a.orderId}`;
            const paid = await notifier.post(notifier.paid(a.orderId!, o!.total_fen));
            if (paid.status === 204) paidOrders++;
          }
          if (a.code === "SOLD_OUT") {
            if ((await held()).paid >= QUANTITY) done = true;
            else await sleep(200); // units come back as unpaid orders time out
          }
        }
      }),
    );
    done = true;
    await sampler;
    const won = attempts.filter((a) => a.status === 201).length;
    log.injected(
      `${attempts.length} buy requests over ${Math.round(RUSH_MS / 1000)} s at most by 10 workers for 60 buyers on a sale of ${QUANTITY} (limit ${LIMIT}); ${won} won, ${paidOrders} paid, the rest left unpaid to time out after ${TIMEOUT_SEC} s and be rushed again`,
    );
    expect(attempts.filter((a) => a.status !== 201 && !(a.status === 409 && ["SOLD_OUT", "LIMIT_EXCEEDED"].includes(a.code!)))).toEqual([]);
    expect(won).toBeGreaterThan(QUANTITY);

    expect(worst.held).toBeLessThanOrEqual(QUANTITY);
    expect(worst.sold).toBeLessThanOrEqual(QUANTITY);
    expect(worst.perUser).toBeLessThanOrEqual(LIMIT);
    expect(worst.minStock).toBeGreaterThanOrEqual(QUANTITY);
    log.checked(`sampled every 150 ms: at most ${worst.held} units held by live orders and ${worst.sold} sold (≤ ${QUANTITY}), at most ${worst.perUser} per buyer (≤ ${LIMIT}), SKU stock never below ${worst.minStock}`);

    // Every unpaid order times out; then the gate and PostgreSQL agree, with nothing pending.
    await waitUntil(async () => (await held()).t.orders.every((o) => o.status !== "pending_payment"), "every unpaid order timed out", 30_000);
    const end = await truth.agreed(sale.saleId);
    const { paid } = await held();
    const live = end.orders.filter((o) => o.status !== "cancelled");
    expect(live.every((o) => o.status === "paid")).toBe(true);
    expect(end.sale.sold).toBe(paid);
    expect(paid).toBeLessThanOrEqual(QUANTITY);
    expect(end.gateLeft).toBe(QUANTITY - paid);
    expect(end.skuStock).toBe(2 * QUANTITY - paid);
    expect(end.orders.filter((o) => o.status === "cancelled").length).toBe(won - live.length);
    const [reasons] = await sql<{ other: number }[]>`select count(*)::int as other from orders where status = 'cancelled' and cancel_reason <> 'payment timeout'`;
    expect(reasons!.other).toBe(0);
    log.checked(
      `after the last timeout: ${paid} units paid = sold (${done ? "the sale sold out to payers" : "the rush ended first"}), ${won - live.length} orders cancelled by their timeout, the gate holds ${end.gateLeft} = ${QUANTITY} − sold with no take pending, SKU stock ${end.skuStock} = ${2 * QUANTITY} − sold, every buyer within the limit`,
    );
  } finally {
    await truth.close();
    await close();
  }
}, 150_000);
