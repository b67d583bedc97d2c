// flash-rush — a buy-now storm on one live flash sale over HTTP, each buy with its own
// Idempotency-Key (some re-sent, as a flaky network would). Only 201 and the documented 409s
// (SOLD_OUT, LIMIT_EXCEEDED, FLASH_NOT_ACTIVE, OUT_OF_STOCK) are accepted answers. After the
// rush every virtual buyer reads back each order it was given (as its buyer), and teardown reads
// the sale's records through the admin report: oversold units, counters that disagree with the
// orders, or a buyer over the limit fail the run. Needs -e ADMIN_TOKEN (products are admin-made).
//
//   k6 run -e BASE_URL=http://127.0.0.1:8080 -e ADMIN_TOKEN=... -e PROFILE=load load-tests/k6/flash-rush.js
import { check, sleep } from 'k6';
import { Counter, Gauge, Trend } from 'k6/metrics';
import { addAddresses, attachProducts, call, createProduct, createStream, deleteProduct, endSessions, inBatches, must, newUsers, randomInt, requireAdmin } from './lib/api.js';
import { ADMIN_TOKEN, TREND_STATS, bool, int, newRunId, num } from './lib/config.js';
import { pick } from './lib/stages.js';
import { summaryHandler } from './lib/summary.js';

const P = pick(
  {
    smoke: { quantity: 50, limit: 3, buyers: 30, vus: 10, rushSec: 10, verifySec: 8, okP95: 1000, okP99: 2000 },
    load: { quantity: 2000, limit: 5, buyers: 1000, vus: 64, rushSec: 40, verifySec: 20, okP95: 1500, okP99: 3000 },
    stress: { quantity: 10000, limit: 5, buyers: 5000, vus: 256, rushSec: 120, verifySec: 40, okP95: 5000, okP99: 10000 },
  },
  {
    QUANTITY: { key: 'quantity', min: 1, max: 1000000 },
    LIMIT: { key: 'limit', min: 1, max: 100 },
    BUYERS: { key: 'buyers', min: 1, max: 100000 },
    VUS: { key: 'vus', min: 1, max: 10000 },
    RUSH_SEC: { key: 'rushSec', min: 1, max: 3600 },
    VERIFY_SEC: { key: 'verifySec', min: 2, max: 3600 },
  },
);
/** Units per buy: 1..MAX_QTY, at random. */
const MAX_QTY = int('MAX_QTY', 2, 1, 100);
/** Share of successful buys sent again with the same Idempotency-Key: must answer the same order. */
const RETRY_SHARE = num('RETRY_SHARE', 0.1, 0, 1);
/** Cancel the run's unpaid orders and delete its product afterwards (stock and records stay clean). */
const CLEANUP = bool('CLEANUP', true);

const DOCUMENTED_409 = { SOLD_OUT: true, LIMIT_EXCEEDED: true, FLASH_NOT_ACTIVE: true, OUT_OF_STOCK: true };

export const options = {
  scenarios: {
    rush: { executor: 'constant-vus', exec: 'buyer', vus: P.vus, duration: `${P.rushSec + P.verifySec}s`, gracefulStop: '30s' },
  },
  thresholds: {
    checks: ['rate==1'],
    flash_unexpected_answers: ['count==0'],
    flash_acked_missing: ['count==0'],
    flash_idempotency_broken: ['count==0'],
    flash_oversold_units: ['count==0'],
    flash_records_mismatch: ['count==0'],
    flash_limit_broken: ['count==0'],
    flash_orders: ['count>0'],
    flash_order_latency: [`p(95)<${P.okP95}`, `p(99)<${P.okP99}`],
    flash_refusal_latency: [`p(95)<${P.okP95}`],
  },
  summaryTrendStats: TREND_STATS,
  setupTimeout: '600s',
  teardownTimeout: '600s',
};

/** Buy → 201 (an order). */
const orderLatency = new Trend('flash_order_latency', true);
/** Buy → a documented 409. */
const refusalLatency = new Trend('flash_refusal_latency', true);
const ordersAcked = new Counter('flash_orders');
const unitsAcked = new Counter('flash_units_acked');
/** Documented refusals, by code. */
const refusals = new Counter('flash_refusals');
/** Anything but 201 and the documented 409s, by status and code. */
const unexpected = new Counter('flash_unexpected_answers');
/** An order the server answered 201 for that its buyer cannot read back (or finds cancelled) after the rush. */
const ackedMissing = new Counter('flash_acked_missing');
const ackedVerified = new Counter('flash_acked_verified');
/** A re-sent buy (same key) that did not answer the same order. */
const idempotencyBroken = new Counter('flash_idempotency_broken');
// Judged in teardown from the admin report (the server's own records):
const oversold = new Counter('flash_oversold_units');
const mismatch = new Counter('flash_records_mismatch');
const limitBroken = new Counter('flash_limit_broken');
const serverSold = new Gauge('flash_server_sold');
const serverOrders = new Gauge('flash_server_orders');
const serverUnits = new Gauge('flash_server_order_units');

export function setup() {
  requireAdmin('the sale sells a product, and its records are read through the admin report');
  const runId = newRunId('flash');
  const host = newUsers(1, 'k6 host ', runId)[0];
  const streamId = createStream(`k6 flash ${runId}`, host);
  const product = createProduct(runId, `k6 flash ${runId}`, 9900, P.quantity);
  attachProducts(streamId, [product.productId], host.token);
  const buyers = addAddresses(newUsers(P.buyers, 'k6 b', runId));
  const sale = must(
    call('POST', `/v1/streams/${streamId}/flash-sales`, {
      token: host.token,
      body: { skuId: product.skuId, priceFen: 1990, quantity: P.quantity, perUserLimit: P.limit, durationSec: P.rushSec + P.verifySec + 300 },
    }),
    'start flash sale',
  );
  console.log(`flash-rush: ${P.quantity} units (≤ ${P.limit} each) to ${P.buyers} buyers, ${P.vus} in flight for ${P.rushSec} s; sale ${sale.id} (${runId})`);
  return { runId: runId, streamId: streamId, host: host, product: product, buyers: buyers, saleId: sale.id, rushEndAt: Date.now() + P.rushSec * 1000 };
}

const mine = [];
let verified = false;
let soldOutSeen = false;

function buy(data) {
  const b = randomInt(data.buyers.length);
  const buyer = data.buyers[b];
  const body = { quantity: 1 + randomInt(MAX_QTY), addressId: buyer.addressId };
  const key = `${data.runId}-${__VU}-${__ITER}`;
  const opts = { token: buyer.token, key: key, body: body, name: '/v1/flash-sales/:id/buy', expect: [201, 409] };
  const r = call('POST', `/v1/flash-sales/${data.saleId}/buy`, opts);
  const documented = r.status === 201 || (r.status === 409 && DOCUMENTED_409[r.code] === true);
  check(r, { 'buy answered 201 or a documented 409': () => documented });
  if (r.status === 201) {
    orderLatency.add(r.ms);
    ordersAcked.add(1);
    unitsAcked.add(body.quantity);
    mine.push({ orderId: r.json.id, buyer: b });
    if (Math.random() < RETRY_SHARE) {
      const again = call('POST', `/v1/flash-sales/${data.saleId}/buy`, opts);
      const same = again.status === 201 && again.json && again.json.id === r.json.id;
      if (!same) idempotencyBroken.add(1, { status: String(again.status) });
    }
  } else if (documented) {
    refusalLatency.add(r.ms);
    refusals.add(1, { code: r.code });
    if (r.code === 'SOLD_OUT' || r.code === 'FLASH_NOT_ACTIVE') soldOutSeen = true;
  } else {
    unexpected.add(1, { status: String(r.status), code: String(r.code) });
  }
}

/** Reads back every order this VU was given, as its buyer: it must exist and not be cancelled. */
function verifyMine(data) {
  const answers = inBatches(mine.length, 20, (i) => ['GET', `/v1/orders/${mine[i].orderId}`, { token: data.buyers[mine[i].buyer].token, name: '/v1/orders/:id', expect: [200, 404] }]);
  for (let i = 0; i < answers.length; i++) {
    const r = answers[i];
    const ok = r.status === 200 && r.json && r.json.status !== 'cancelled';
    if (ok) ackedVerified.add(1);
    else ackedMissing.add(1, { status: String(r.status) });
  }
}

export function buyer(data) {
  for (const c of [unexpected, ackedMissing, idempotencyBroken, oversold, mismatch, limitBroken, ackedVerified]) c.add(0);
  if (Date.now() < data.rushEndAt) {
    buy(data);
    // Once it is gone, a buyer keeps trying, but like a person would (units may come back).
    if (soldOutSeen) sleep(0.5);
    return;
  }
  if (!verified) {
    verified = true;
    verifyMine(data);
    return;
  }
  sleep(1);
}

export function teardown(data) {
  const report = must(call('GET', `/v1/admin/flash-sales/${data.saleId}/report`, { token: ADMIN_TOKEN, name: '/v1/admin/flash-sales/:id/report' }), 'flash sale report');
  const s = report.sale;
  serverSold.add(s.sold);
  serverOrders.add(report.orders.count);
  serverUnits.add(report.orders.units);
  oversold.add(report.oversoldUnits + Math.max(0, s.sold - s.quantity));
  if (s.sold !== report.orders.units) mismatch.add(1, { what: 'sold_vs_order_units' });
  if (report.buyers.units !== report.orders.units) mismatch.add(1, { what: 'buyer_units_vs_order_units' });
  if (report.skuStock !== null && report.skuStock !== P.quantity - report.orders.units) mismatch.add(1, { what: 'sku_stock' });
  if (report.buyers.maxBought > s.perUserLimit) limitBroken.add(1);
  console.log(`flash-rush: server records: sold ${s.sold}/${s.quantity}, ${report.orders.count} live orders with ${report.orders.units} units, buyers hold ${report.buyers.units} (max ${report.buyers.maxBought}, limit ${s.perUserLimit}), SKU stock ${report.skuStock}`);

  call('POST', `/v1/flash-sales/${data.saleId}/end`, { token: data.host.token, name: '/v1/flash-sales/:id/end', expect: [200, 409] });
  if (CLEANUP) {
    // Unpaid orders back to stock (cancelled), then the product goes.
    const lists = inBatches(data.buyers.length, 50, (i) => ['GET', '/v1/orders?status=pending_payment&pageSize=100', { token: data.buyers[i].token, name: '/v1/orders', expect: [200] }]);
    const cancels = [];
    lists.forEach((r, i) => {
      if (r.status !== 200) return;
      r.json.items.forEach((o) => cancels.push([i, o.id]));
    });
    inBatches(cancels.length, 50, (j) => ['POST', `/v1/orders/${cancels[j][1]}/cancel`, { token: data.buyers[cancels[j][0]].token, body: { reason: 'k6 flash-rush clean-up' }, name: '/v1/orders/:id/cancel', expect: [200, 409] }]);
    deleteProduct(data.product.productId);
  }
  endSessions([data.host].concat(data.buyers));
}

export const handleSummary = summaryHandler('flash-rush', function (data) {
  const m = data.metrics;
  const v = (name, key) => (m[name] ? m[name].values[key] : 'n/a');
  return [
    `acknowledged: ${v('flash_orders', 'count')} orders with ${v('flash_units_acked', 'count')} units; read back after the rush: ${v('flash_acked_verified', 'count')} found, ${v('flash_acked_missing', 'count')} missing.`,
    `server records (admin report): flash_sales.sold ${v('flash_server_sold', 'value')} of ${P.quantity}; live orders with the sale's lines ${v('flash_server_orders', 'value')} holding ${v('flash_server_order_units', 'value')} units; flash_buyers and the SKU's stock checked against them.`,
  ];
});
