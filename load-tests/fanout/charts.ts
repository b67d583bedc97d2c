import { barChart, type Chart } from "../shared/charts.js";
import type { Options } from "./options.js";
import type { Measured, Results } from "./report.js";

/** The fan-out run as pictures: throughput per target, latency percentiles per target. */
export function fanoutCharts(results: Results, o: Options): Chart[] {
  const ok = Object.entries(results).filter((e): e is [string, Measured] => !("error" in e[1]));
  const names = ok.map(([name]) => name);
  const sub = `${o.viewers.toLocaleString("en-US")} viewers, ${o.rate.toLocaleString("en-US")} comments/s, ${o.seconds} s measured`;
  return [
    {
      chart: "throughput",
      option: barChart({
        title: "Fan-out: delivered per second, per target",
        subtitle: sub,
        categories: names,
        unit: "per second (log)",
        log: true,
        series: [
          { name: "events/s", data: ok.map(([, r]) => Math.max(1, r.eventsPerSec)) },
          { name: "frames/s", data: ok.map(([, r]) => Math.max(1, r.framesPerSec)) },
        ],
      }),
    },
    {
      chart: "latency",
      option: barChart({
        title: "Fan-out: comment latency (send → a viewer's receipt), per target",
        subtitle: sub,
        categories: names,
        unit: "ms (log)",
        log: true,
        series: [
          { name: "p50", data: ok.map(([, r]) => r.p50Ms) },
          { name: "p99", data: ok.map(([, r]) => r.p99Ms) },
          { name: "max", data: ok.map(([, r]) => r.maxMs) },
        ],
      }),
    },
  ];
}
