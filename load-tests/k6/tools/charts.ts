// k6 summary → PNG: `npm run k6:charts -- load-tests/k6/results/viewers.json [...]` writes
// `viewers.png` beside it: latency percentiles of every timing metric, and the scenario's counts.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { writePng } from "../../shared/charts.js";

type K6Metric = { type: "trend" | "counter" | "rate" | "gauge"; contains?: string; values: Record<string, number> };
type K6Summary = { metrics: Record<string, K6Metric>; pinlive?: { scenario: string; profile: string; baseUrl: string; verdict: string; finishedAt: string } };

const PERCENTILES = [
  ["p50", "med"],
  ["p90", "p(90)"],
  ["p95", "p(95)"],
  ["p99", "p(99)"],
  ["max", "max"],
] as const;
/** k6's own timings worth showing beside the scenario's. */
const BUILTIN_TIMINGS = ["http_req_duration", "ws_connecting"];
const BUILTIN = /^(http_|iteration|vus|data_|checks|ws_|group_duration|dropped_iterations)/;

/** The chart option for one k6 summary (two panels: timings in ms, counts). */
export function summaryChart(s: K6Summary) {
  const names = Object.keys(s.metrics).filter((n) => !n.includes("{")).sort();
  const timings = names.filter((n) => s.metrics[n]!.type === "trend" && s.metrics[n]!.contains === "time" && (!BUILTIN.test(n) || BUILTIN_TIMINGS.includes(n)) && (s.metrics[n]!.values.count ?? 1) > 0);
  const counts = names.filter((n) => s.metrics[n]!.type === "counter" && !BUILTIN.test(n));
  const p = s.pinlive;
  const heading = p ? `k6 ${p.scenario} · ${p.profile} · ${p.verdict.toUpperCase()}` : "k6 summary";
  const sub = p ? `${p.baseUrl} · ${p.finishedAt.slice(0, 16).replace("T", " ")} UTC` : "";
  const rows = Math.max(timings.length, counts.length, 1);
  const height = Math.max(420, 130 + rows * 34);
  const label = { show: true, position: "right", fontSize: 9, formatter: (x: { value: number }) => short(x.value) };
  return {
    option: {
      title: [
        { text: heading, subtext: sub, left: "center" },
        { text: "latency (ms, log scale)", left: "25%", top: 70, textAlign: "center", textStyle: { fontSize: 13 } },
        { text: "counts", left: "77%", top: 70, textAlign: "center", textStyle: { fontSize: 13 } },
      ],
      legend: { top: 94, left: "8%", data: PERCENTILES.map(([n]) => n) },
      grid: [
        { left: 190, width: "32%", top: 125, bottom: 30 },
        { left: "67%", right: 60, top: 125, bottom: 30 },
      ],
      xAxis: [
        { gridIndex: 0, type: "log", axisLabel: { fontSize: 10 } },
        { gridIndex: 1, type: "log", axisLabel: { fontSize: 10 } },
      ],
      yAxis: [
        { gridIndex: 0, type: "category", inverse: true, data: timings, axisLabel: { fontSize: 10 } },
        { gridIndex: 1, type: "category", inverse: true, data: counts, axisLabel: { fontSize: 10 } },
      ],
      series: [
        ...PERCENTILES.map(([name, key]) => ({
          type: "bar",
          name,
          xAxisIndex: 0,
          yAxisIndex: 0,
          data: timings.map((n) => Math.max(0.01, s.metrics[n]!.values[key] ?? 0)),
          label: name === "p99" ? label : undefined,
        })),
        // log axes cannot show 0: a count of 0 is drawn as a stub at 0.5 and labelled 0
        { type: "bar", name: "count", xAxisIndex: 1, yAxisIndex: 1, data: counts.map((n) => Math.max(0.5, s.metrics[n]!.values.count ?? 0)), label: { ...label, formatter: (x: { value: number }) => (x.value < 1 ? "0" : x.value < 1e4 ? String(Math.round(x.value)) : short(x.value)) }, itemStyle: { color: "#7a7a7a" } },
      ],
    },
    size: { width: 1200, height },
  };
}

function short(v: number): string {
  if (!Number.isFinite(v)) return "";
  if (v >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (v >= 1e4) return `${(v / 1e3).toFixed(0)}k`;
  if (v >= 100) return v.toFixed(0);
  return v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

/** Writes `<file without .json>.png` for a k6 summary JSON and returns its path. */
export function chartSummaryFile(file: string): string {
  const summary = JSON.parse(readFileSync(file, "utf8")) as K6Summary;
  const { option, size } = summaryChart(summary);
  return writePng(file.replace(/\.json$/, "") + ".png", option, size);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    process.stderr.write("usage: npm run k6:charts -- <summary.json> [...]   (handleSummary writes them to SUMMARY_DIR)\n");
    process.exit(2);
  }
  for (const f of files) console.log(chartSummaryFile(f));
}
