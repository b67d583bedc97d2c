import type { RushResult } from "./buy-rush.js";
import type { Latency } from "./latency.js";
import type { Options } from "./options.js";
import type { PgResult } from "./postgres-ceiling.js";
import type { GateResult } from "./redis-ceiling.js";
import type { Truth } from "./truth.js";

export type Results = {
  options: Options;
  rush: RushResult;
  truth: Truth;
  gateLeft: number | null;
  serverWarnings: Record<string, number>;
  gate: GateResult | { error: string };
  pg: PgResult | { error: string };
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
const gateOk = (r: Results) => ("error" in r.gate ? null : r.gate);
const pgOk = (r: Results) => ("error" in r.pg ? null : r.pg);

export function ratios(r: Results) {
  return {
    ordersPerRedisTakes: ratio(r.rush.ordersPerSec, gateOk(r)?.takesPerSec),
    ordersPerPgUpdates: ratio(r.rush.ordersPerSec, pgOk(r)?.updatesPerSec),
  };
}

/** Safety violations: each one fails the run. */
export function violations(r: Results): string[] {
  const { truth: t, options: o } = r;
  const p = pgOk(r);
  const out: string[] = [];
  if (t.oversold > 0) out.push(`oversold by ${t.oversold} units`);
  if (t.sold > t.quantity) out.push(`flash_sales.sold ${t.sold} > quantity ${t.quantity}`);
  if (t.skuStock < 0) out.push(`SKU stock is ${t.skuStock}`);
  if (t.maxPerUser > o.limit) out.push(`a buyer holds ${t.maxPerUser} units (limit ${o.limit})`);
  if (p && Math.min(p.stockAfter, p.minReturned ?? 0) < 0) out.push("PostgreSQL ceiling: stock went negative");
  if (p && !p.consistent) out.push("PostgreSQL ceiling: decrements and stock disagree");
  return out;
}

export function tables(r: Results): string {
  const { options: o, rush, truth: t } = r;
  const out = [
    section(`pinlive buy-now: ${int(o.quantity)} units, ${o.limit} per buyer, ${int(o.users)} buyers, ${o.concurrency} in flight`, [
      ["orders", `${int(rush.orders)} in ${rush.sellOutSec.toFixed(2)} s → ${int(rush.ordersPerSec)} orders/s${rush.soldOutAll ? "" : " (NOT sold out)"}`],
      ["requests", `${int(rush.attempts)} in ${rush.durationSec.toFixed(2)} s → ${int(rush.attemptsPerSec)} requests/s`],
      ["refusals", `LIMIT_EXCEEDED ×${int(rush.limited)}, SOLD_OUT ×${int(rush.soldOut)}`],
      ["other answers", `${kv(rush.other)}${rush.firstOther ? ` (first: ${rush.firstOther})` : ""}`],
      ["latency, orders (201)", lat(rush.ok)],
      ["latency, refusals (409)", lat(rush.refused)],
      ["CPU (100% = 1 core)", `server ${rush.serverCpuPct.toFixed(0)}%, driver ${rush.driverCpuPct.toFixed(0)}%`],
      ["server warn/error logs", kv(r.serverWarnings)],
    ]),
    section("the truth, read from PostgreSQL after the rush", [
      ["flash_sales sold/quantity", `${int(t.sold)} / ${int(t.quantity)}`],
      ["units in live orders", `${int(t.orderedUnits)} in ${int(t.orders)} orders (orders not cancelled)`],
      ["oversold units", `${t.oversold}`],
      ["SKU stock left", `${int(t.skuStock)} (started at ${int(o.quantity)})`],
      ["most units one buyer holds", `${t.maxPerUser} (limit ${o.limit})`],
      ["flash_buyers units", int(t.buyerUnits)],
      ["server gate left (Redis)", r.gateLeft === null ? "n/a" : int(r.gateLeft)],
    ]),
  ];
  const g = gateOk(r);
  out.push(
    g
      ? section(`Redis gate alone: the server's take script, ${int(g.units)} units, ${o.concurrency} callers, one connection`, [
          ["takes", `${int(g.taken)} in ${g.durationSec.toFixed(2)} s → ${int(g.takesPerSec)} takes/s${g.left === 0 ? "" : " (NOT sold out)"}`],
          ["calls", `${int(g.ops)} → ${int(g.opsPerSec)} calls/s (limit refusals ×${int(g.limited)}, sold out ×${g.soldOut})`],
          ["latency, every call", lat(g.latency)],
          ["driver CPU", `${g.driverCpuPct.toFixed(0)}%`],
        ])
      : section("Redis gate alone", [["FAILED", (r.gate as { error: string }).error]]),
  );
  const p = pgOk(r);
  out.push(
    p
      ? section(`PostgreSQL conditional update alone: one hot SKU row, ${o.concurrency} connections, ${o.seconds} s`, [
          ["updates", `${int(p.updates)} in ${p.durationSec.toFixed(2)} s → ${int(p.updatesPerSec)} updates/s (refused ${p.refused})`],
          ["latency, every update", lat(p.latency)],
          ["stock", `${int(p.stockBefore)} → ${int(p.stockAfter)}, lowest returned ${p.minReturned ?? "n/a"}, ${p.consistent ? "every decrement accounted for" : "MISMATCH"}`],
        ])
      : section("PostgreSQL conditional update alone", [["FAILED", (r.pg as { error: string }).error]]),
  );
  const q = ratios(r);
  const f = (n: number | null) => (n === null ? "n/a" : n.toFixed(3));
  out.push(
    section("ratios", [
      ["orders/s ÷ Redis takes/s", f(q.ordersPerRedisTakes)],
      ["orders/s ÷ PostgreSQL upd/s", f(q.ordersPerPgUpdates)],
    ]),
  );
  return out.join("\n\n");
}

/** The one-line JSON summary, stdout's last line. */
export function summary(r: Results): string {
  const { options: o, rush, truth: t } = r;
  const g = gateOk(r);
  const p = pgOk(r);
  const q = ratios(r);
  return JSON.stringify({
    bench: "orders",
    quantity: o.quantity,
    limit: o.limit,
    users: o.users,
    concurrency: o.concurrency,
    ordersPerSec: round(rush.ordersPerSec),
    requestsPerSec: round(rush.attemptsPerSec),
    orderP50Ms: round(rush.ok.p50Ms, 2),
    orderP99Ms: round(rush.ok.p99Ms, 2),
    refusalP50Ms: round(rush.refused.p50Ms, 2),
    refusalP99Ms: round(rush.refused.p99Ms, 2),
    otherAnswers: rush.other,
    sold: t.sold,
    orderedUnits: t.orderedUnits,
    oversold: t.oversold,
    skuStock: t.skuStock,
    maxPerUser: t.maxPerUser,
    redisTakesPerSec: round(g?.takesPerSec ?? null),
    redisCallsPerSec: round(g?.opsPerSec ?? null),
    redisP50Ms: round(g?.latency.p50Ms ?? null, 2),
    redisP99Ms: round(g?.latency.p99Ms ?? null, 2),
    pgUpdatesPerSec: round(p?.updatesPerSec ?? null),
    pgP50Ms: round(p?.latency.p50Ms ?? null, 2),
    pgP99Ms: round(p?.latency.p99Ms ?? null, 2),
    ordersPerRedisTakes: round(q.ordersPerRedisTakes, 4),
    ordersPerPgUpdates: round(q.ordersPerPgUpdates, 4),
    violations: violations(r),
  });
}
