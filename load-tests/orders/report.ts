import type { Ceiling, StackResult } from "./bare-post.js";
import type { RefusalResult, RushResult } from "./buy-rush.js";
import type { CartResult } from "./cart-rush.js";
import type { Latency } from "./latency.js";
import type { Options } from "./options.js";
import type { PgResult } from "./postgres-ceiling.js";
import type { GateResult } from "./redis-ceiling.js";
import type { Truth } from "./truth.js";

export type Results = {
  options: Options;
  rush: RushResult;
  refusals: RefusalResult;
  cart: CartResult;
  /** Requests whose answers were lost, asked again with their keys after the rush. */
  retried: { asked: number; returned: number; stillUnresolved: number };
  truth: Truth;
  gate: { left: number | null; pending: number; agrees: boolean };
  serverWarnings: Record<string, number>;
  gateCeiling: GateResult | { error: string };
  pg: PgResult | { error: string };
  stack: StackResult | { error: string };
  /** The host's 1-minute load average at the start and at the end of the run (other work on the machine skews every figure). */
  loadAvg: { start: number; end: number };
};

const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "n/a");
const ms = (n: number | null) => (n === null ? "n/a" : `${n.toFixed(n < 10 ? 2 : 1)} ms`);
const lat = (l: Latency) => `p50 ${ms(l.p50Ms)} / p99 ${ms(l.p99Ms)} / max ${ms(l.maxMs)} (${int(l.n)})`;
const kv = (o: Record<string, number>) => Object.entries(o).map(([k, v]) => `${k} ×${v}`).join(", ") || "none";
const round = (n: number | null, digits = 1) => (n === null || !Number.isFinite(n) ? null : Number(n.toFixed(digits)));
const ratio = (a: number, b: number | undefined) => (b && b > 0 ? a / b : null);

function section(title: string, rows: [string, string][]): string {
  return [`── ${title} ${"─".repeat(Math.max(0, 90 - title.length))}`, ...rows.map(([k, v]) => `  ${k.padEnd(28)} ${v}`)].join("\n");
}

/** The ceilings' figures, or null when that phase failed. */
const ok = <T extends object>(x: T | { error: string }): T | null => ("error" in x ? null : x);

export function ratios(r: Results) {
  return {
    "orders/pgRowUpdate": ratio(r.rush.ordersPerSec, ok(r.pg)?.updatesPerSec),
    "orders/barePost": ratio(r.rush.ordersPerSec, ok(r.stack)?.post.perSec),
    "orders/redisTakes": ratio(r.rush.ordersPerSec, ok(r.gateCeiling)?.takesPerSec),
    "refusals/stackRefusal": ratio(r.refusals.refusalsPerSec, ok(r.stack)?.refusal.perSec),
    "stackRefusal/uws": ratio(ok(r.stack)?.refusal.perSec ?? 0, ok(r.stack)?.uws.perSec),
  };
}

/** Safety violations: each one fails the run. */
export function violations(r: Results): string[] {
  const { truth: t, options: o } = r;
  const p = ok(r.pg);
  const out: string[] = [];
  if (t.oversold > 0) out.push(`oversold by ${t.oversold} units`);
  if (t.sold > t.quantity) out.push(`flash_sales.sold ${t.sold} > quantity ${t.quantity}`);
  if (t.sold !== t.orderedUnits) out.push(`flash_sales.sold ${t.sold} but ${t.orderedUnits} units in orders`);
  if (t.skuStock < 0) out.push(`SKU stock is ${t.skuStock}`);
  if (t.maxPerUser > o.limit) out.push(`a buyer holds ${t.maxPerUser} units (limit ${o.limit})`);
  if (t.lost > 0) out.push(`lost ${t.lost} (${t.answeredMissing} answered 201 but missing, ${t.unanswered} orders nobody was told of)`);
  if (t.halfWritten > 0) out.push(`${t.halfWritten} orders half-written`);
  if (!r.gate.agrees) out.push(`the gate (left ${r.gate.left}, ${r.gate.pending} pending) and PostgreSQL (quantity - sold = ${t.quantity - t.sold}) disagree`);
  if (t.cartStockTaken !== t.cartOrderedUnits) out.push(`cart SKU: ${t.cartStockTaken} units taken, ${t.cartOrderedUnits} in orders`);
  if (p && Math.min(p.stockAfter, p.minReturned ?? 0) < 0) out.push("PostgreSQL ceiling: stock went negative");
  if (p && !p.consistent) out.push("PostgreSQL ceiling: decrements and stock disagree");
  return out;
}

export function tables(r: Results): string {
  const { options: o, rush, truth: t, refusals: f, cart: c } = r;
  const out = [
    section(`pinlive flash buy-now: ${int(o.quantity)} units, ${o.limit} per buyer, ${int(o.users)} buyers, ${o.concurrency} in flight`, [
      ["orders", `${int(rush.orders)} in ${rush.sellOutSec.toFixed(2)} s → ${int(rush.ordersPerSec)} orders/s${rush.soldOutAll ? "" : " (NOT sold out)"}`],
      ["requests", `${int(rush.attempts)} in ${rush.durationSec.toFixed(2)} s → ${int(rush.attemptsPerSec)} requests/s`],
      ["refusals during the rush", `LIMIT_EXCEEDED ×${int(rush.limited)}, SOLD_OUT ×${int(rush.soldOut)}`],
      ["other answers", `${kv(rush.other)}${rush.firstOther ? ` (first: ${rush.firstOther})` : ""}`],
      ["latency, orders (201)", lat(rush.ok)],
      ["latency, refusals (409)", lat(rush.refused)],
      ["CPU (100% = 1 core)", `server ${rush.serverCpuPct.toFixed(0)}%, driver ${rush.driverCpuPct.toFixed(0)}%`],
      ["lost answers asked again", `${r.retried.asked}: ${r.retried.returned} returned their order, ${r.retried.stillUnresolved} still without an answer`],
    ]),
    section(`refusals: the sold-out sale, ${o.concurrency} in flight, ${o.seconds} s`, [
      ["refusals (409)", `${int(f.refusals)} → ${int(f.refusalsPerSec)} refusals/s`],
      ["latency", lat(f.latency)],
      ["other answers", kv(f.other)],
      ["CPU (100% = 1 core)", `server ${f.serverCpuPct.toFixed(0)}%, driver ${f.driverCpuPct.toFixed(0)}%`],
    ]),
    section(`cart checkout on one hot SKU (no flash sale), ${Math.min(o.concurrency, o.users)} buyers, ${o.seconds} s`, [
      ["orders", `${int(c.orders)} → ${int(c.ordersPerSec)} orders/s`],
      ["latency, checkout (201)", lat(c.checkout)],
      ["other answers", kv(c.other)],
      ["server CPU", `${c.serverCpuPct.toFixed(0)}%`],
    ]),
    section("the truth, read from PostgreSQL and the gate after the rushes", [
      ["flash_sales sold/quantity", `${int(t.sold)} / ${int(t.quantity)}`],
      ["units in live orders", `${int(t.orderedUnits)} in ${int(t.orders)} orders (orders not cancelled)`],
      ["oversold units", `${t.oversold}`],
      ["lost", `${t.lost} (201s missing: ${t.answeredMissing}; orders never answered: ${t.unanswered})`],
      ["half-written orders", `${t.halfWritten} (each order: one line and its Idempotency-Key answer)`],
      ["SKU stock left", `${int(t.skuStock)} (started at ${int(o.quantity)})`],
      ["most units one buyer holds", `${t.maxPerUser} (limit ${o.limit})`],
      ["flash_buyers units", int(t.buyerUnits)],
      ["the gate (Redis)", `${r.gate.left === null ? "n/a" : int(r.gate.left)} left, ${r.gate.pending} pending: ${r.gate.agrees ? "agrees with PostgreSQL" : "DISAGREES"}`],
      ["cart SKU", `${int(t.cartStockTaken)} units taken, ${int(t.cartOrderedUnits)} in orders`],
      ["server warn/error logs", kv(r.serverWarnings)],
    ]),
  ];
  const g = ok(r.gateCeiling);
  out.push(
    g
      ? section(`Redis gate alone: the server's take script, ${int(g.units)} units, ${o.concurrency} callers, one connection`, [
          ["takes", `${int(g.taken)} in ${g.durationSec.toFixed(2)} s → ${int(g.takesPerSec)} takes/s${g.left === 0 ? "" : " (NOT sold out)"}`],
          ["calls", `${int(g.ops)} → ${int(g.opsPerSec)} calls/s (limit refusals ×${int(g.limited)}, sold out ×${g.soldOut})`],
          ["latency, every call", lat(g.latency)],
          ["driver CPU", `${g.driverCpuPct.toFixed(0)}%`],
        ])
      : section("Redis gate alone", [["FAILED", (r.gateCeiling as { error: string }).error]]),
  );
  const p = ok(r.pg);
  out.push(
    p
      ? section(`PostgreSQL conditional update alone: one hot SKU row, ${o.concurrency} connections, ${o.seconds} s`, [
          ["updates", `${int(p.updates)} in ${p.durationSec.toFixed(2)} s → ${int(p.updatesPerSec)} updates/s (refused ${p.refused})`],
          ["latency, every update", lat(p.latency)],
          ["stock", `${int(p.stockBefore)} → ${int(p.stockAfter)}, lowest returned ${p.minReturned ?? "n/a"}, ${p.consistent ? "every decrement accounted for" : "MISMATCH"}`],
        ])
      : section("PostgreSQL conditional update alone", [["FAILED", (r.pg as { error: string }).error]]),
  );
  const st = ok(r.stack);
  const stackRow = (c: Ceiling, what: string): [string, string] => [what, `${int(c.answers)} → ${int(c.perSec)}/s (failed ${c.failed}), ${lat(c.latency)}, server CPU ${c.serverCpuPct.toFixed(0)}%`];
  out.push(
    st
      ? section(`the request stack alone (the server's router, API layer, pool), ${o.concurrency} in flight, ${o.seconds} s each`, [
          stackRow(st.post, "bare POST writing one row"),
          stackRow(st.refusal, "buy refused before the gate"),
          stackRow(st.uws, "uWS alone, fixed 409"),
        ])
      : section("the request stack alone", [["FAILED", (r.stack as { error: string }).error]]),
  );
  const q = ratios(r);
  const f3 = (n: number | null) => (n === null ? "n/a" : n.toFixed(3));
  out.push(
    section(`ratios (host load average ${r.loadAvg.start.toFixed(1)} at the start, ${r.loadAvg.end.toFixed(1)} at the end, 2 cores)`, [
      ["orders/s ÷ PostgreSQL upd/s", `${f3(q["orders/pgRowUpdate"])} (target ≥ 1.0)`],
      ["orders/s ÷ bare POST/s", `${f3(q["orders/barePost"])} (target ≥ 0.5)`],
      ["orders/s ÷ Redis takes/s", f3(q["orders/redisTakes"])],
      ["refusals/s ÷ stack refusals/s", f3(q["refusals/stackRefusal"])],
      ["stack refusals/s ÷ uWS alone/s", f3(q["stackRefusal/uws"])],
    ]),
  );
  return out.join("\n\n");
}

/** The one-line JSON summary, stdout's last line. */
export function summary(r: Results): string {
  const { options: o, rush, truth: t } = r;
  const g = ok(r.gateCeiling);
  const p = ok(r.pg);
  const st = ok(r.stack);
  const q = ratios(r);
  return JSON.stringify({
    bench: "orders",
    quantity: o.quantity,
    limit: o.limit,
    users: o.users,
    concurrency: o.concurrency,
    loadAvg: r.loadAvg,
    ordersPerSec: round(rush.ordersPerSec),
    orderP50Ms: round(rush.ok.p50Ms, 2),
    orderP99Ms: round(rush.ok.p99Ms, 2),
    refusalsPerSec: round(r.refusals.refusalsPerSec),
    refusalP50Ms: round(r.refusals.latency.p50Ms, 2),
    refusalP99Ms: round(r.refusals.latency.p99Ms, 2),
    requestsPerSec: round(rush.attemptsPerSec),
    otherAnswers: rush.other,
    cartOrdersPerSec: round(r.cart.ordersPerSec),
    cartP99Ms: round(r.cart.checkout.p99Ms, 2),
    sold: t.sold,
    orderedUnits: t.orderedUnits,
    oversold: t.oversold,
    lost: t.lost,
    halfWritten: t.halfWritten,
    gateAgrees: r.gate.agrees,
    skuStock: t.skuStock,
    maxPerUser: t.maxPerUser,
    redisTakesPerSec: round(g?.takesPerSec ?? null),
    pgUpdatesPerSec: round(p?.updatesPerSec ?? null),
    pgP99Ms: round(p?.latency.p99Ms ?? null, 2),
    barePostPerSec: round(st?.post.perSec ?? null),
    barePostP99Ms: round(st?.post.latency.p99Ms ?? null, 2),
    stackRefusalsPerSec: round(st?.refusal.perSec ?? null),
    uwsAlonePerSec: round(st?.uws.perSec ?? null),
    violations: violations(r),
    ratios: Object.fromEntries(Object.entries(q).map(([k, v]) => [k, round(v, 4)])),
  });
}
