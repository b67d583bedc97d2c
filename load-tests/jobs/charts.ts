import { barChart, lineChart, type Chart } from "../shared/charts.js";
import type { Options } from "./options.js";
import type { Measured, Results } from "./report.js";

/** The jobs run as pictures: lateness percentiles per target, p99 lateness by due second, rates. */
export function jobsCharts(results: Results, o: Options, hz: number | null): Chart[] {
  const ok = Object.entries(results).filter((e): e is [string, Measured] => !("error" in e[1]));
  const names = ok.map(([name]) => name);
  const sub = `${o.rate.toLocaleString("en-US")} jobs/s for ${o.seconds} s, due ${o.delayMs} ms ahead, ${o.workers} workers × ${o.concurrency}${hz === null ? "" : `, Redis hz ${hz}`}`;
  return [
    {
      chart: "lateness",
      option: barChart({
        title: "Jobs: firing lateness (ran − due), per target",
        subtitle: sub,
        categories: names,
        unit: "ms (log)",
        log: true,
        series: (["p50", "p90", "p99", "max"] as const).map((k) => ({ name: k, data: ok.map(([, r]) => (r.tally.lateness[k] === null ? null : Math.max(0.01, r.tally.lateness[k]))) })),
      }),
    },
    {
      chart: "lateness-over-time",
      option: lineChart({
        title: "Jobs: p99 lateness of the jobs due in each second",
        subtitle: `${sub}; adds stop at ${o.seconds} s`,
        xName: "due second (from the first due job)",
        yName: "p99 lateness, ms (log)",
        log: true,
        series: ok.map(([name, r]) => ({ name, points: r.tally.p99BySecond.map(([s, p]) => [s, Math.max(0.01, p)] as [number, number]) })),
      }),
    },
    {
      chart: "throughput",
      option: barChart({
        title: "Jobs: scheduled and fired per second, per target",
        subtitle: sub,
        categories: names,
        unit: "jobs per second",
        series: [
          { name: "scheduled/s", data: ok.map(([, r]) => r.tally.scheduledPerSec) },
          { name: "fired/s", data: ok.map(([, r]) => r.tally.firedPerSec) },
        ],
      }),
    },
  ];
}
