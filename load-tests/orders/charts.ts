import { barChart, type Chart } from "../shared/charts.js";
import type { Results } from "./report.js";

/** The orders run as pictures: rates of the rush and of the two ceilings, and their latencies. */
export function ordersCharts(r: Results): Chart[] {
  const o = r.options;
  const gate = "error" in r.gateCeiling ? null : r.gateCeiling;
  const pg = "error" in r.pg ? null : r.pg;
  const stack = "error" in r.stack ? null : r.stack;
  const sub = `${o.quantity.toLocaleString("en-US")} units, ${o.limit} per buyer, ${o.users.toLocaleString("en-US")} buyers, ${o.concurrency} in flight; load average ${r.loadAvg.start.toFixed(1)} (2 cores)`;
  const phases: [string, number | null, { p50Ms: number | null; p99Ms: number | null; maxMs: number | null } | null][] = [
    ["flash buy-now: orders (201)", r.rush.ordersPerSec, r.rush.ok],
    ["sold out: refusals (409)", r.refusals.refusalsPerSec, r.refusals.latency],
    ["cart checkout, hot SKU", r.cart.ordersPerSec, r.cart.checkout],
    ["bare authenticated POST", stack?.post.perSec ?? null, stack?.post.latency ?? null],
    ["buy refused before the gate", stack?.refusal.perSec ?? null, stack?.refusal.latency ?? null],
    ["uWS alone, fixed 409", stack?.uws.perSec ?? null, stack?.uws.latency ?? null],
    ["PostgreSQL hot-row update", pg?.updatesPerSec ?? null, pg?.latency ?? null],
    ["Redis gate alone", gate?.takesPerSec ?? null, gate?.latency ?? null],
  ];
  const rated = phases.filter(([, rate]) => rate !== null);
  return [
    {
      chart: "throughput",
      option: barChart({
        title: "Orders: flash buy-now, refusals and cart checkout beside their ceilings",
        subtitle: sub,
        categories: rated.map(([name]) => name),
        unit: "per second (log)",
        log: true,
        horizontal: true,
        series: [{ name: "per second", data: rated.map(([, rate]) => rate) }],
      }),
    },
    {
      chart: "latency",
      option: barChart({
        title: "Orders: latency per phase",
        subtitle: sub,
        categories: phases.map(([name]) => name),
        unit: "ms (log)",
        log: true,
        horizontal: true,
        series: (["p50Ms", "p99Ms", "maxMs"] as const).map((k) => ({ name: k.replace("Ms", ""), data: phases.map(([, , l]) => (l ? l[k] : null)) })),
      }),
    },
  ];
}
