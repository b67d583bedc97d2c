// Benchmark pictures: ECharts rendered server-side to SVG, then to PNG by resvg. One module for every
// benchmark and the k6 summaries, so the charts look alike.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { Resvg } from "@resvg/resvg-js";
import * as echarts from "echarts";

/** The CJK-capable font Debian's fonts-wqy-microhei installs (scripts/ensure-services.sh); resvg falls back to system fonts without it. */
const FONT_FILE = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc";
const FONT_FAMILY = "WenQuanYi Micro Hei";

export type ChartSize = { width: number; height: number };
export type Series = { name: string; data: (number | null)[] };
export type XYSeries = { name: string; points: [number, number][] };
/** One picture of a benchmark: its file suffix and the ECharts option. */
export type Chart = { chart: string; option: echarts.EChartsCoreOption; size?: ChartSize };

/** Renders an ECharts option to PNG bytes (no animation, white background). */
export function renderPng(option: echarts.EChartsCoreOption, size: ChartSize = { width: 960, height: 540 }): Buffer {
  const chart = echarts.init(null, null, { renderer: "svg", ssr: true, width: size.width, height: size.height });
  try {
    chart.setOption({ animation: false, backgroundColor: "#ffffff", textStyle: { fontFamily: FONT_FAMILY }, ...option });
    const svg = chart.renderToSVGString();
    const font = existsSync(FONT_FILE)
      ? { fontFiles: [FONT_FILE], loadSystemFonts: false, defaultFontFamily: FONT_FAMILY }
      : { loadSystemFonts: true };
    return new Resvg(svg, { font, background: "#ffffff" }).render().asPng();
  } finally {
    chart.dispose();
  }
}

/** Writes a PNG (making its folder) and returns the path. */
export function writePng(path: string, option: echarts.EChartsCoreOption, size?: ChartSize): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, renderPng(option, size));
  return path;
}

const title = (text: string, subtext?: string) => ({ text, subtext, left: "center", textStyle: { fontSize: 16 }, subtextStyle: { fontSize: 12 } });

/** Grouped bars: one group per category, one bar per series (e.g. p50 / p99 per target). */
export function barChart(o: { title: string; subtitle?: string; categories: string[]; series: Series[]; unit: string; log?: boolean; horizontal?: boolean }) {
  const valueAxis = { type: o.log ? "log" : "value", name: o.unit, nameLocation: "middle", nameGap: o.horizontal ? 28 : 56, axisLabel: { fontSize: 11 } };
  const categoryAxis = { type: "category", data: o.categories, axisLabel: { fontSize: 11, interval: 0 } };
  return {
    title: title(o.title, o.subtitle),
    legend: { top: o.subtitle ? 64 : 34, data: o.series.map((s) => s.name) },
    grid: { left: o.horizontal ? 200 : 80, right: 40, top: o.subtitle ? 100 : 72, bottom: 60 },
    xAxis: o.horizontal ? valueAxis : categoryAxis,
    yAxis: o.horizontal ? { ...categoryAxis, inverse: true } : valueAxis,
    series: o.series.map((s) => ({
      type: "bar",
      name: s.name,
      data: s.data,
      label: { show: o.series.length * o.categories.length <= 24, position: o.horizontal ? "right" : "top", fontSize: 10, formatter: (p: { value: number }) => formatValue(p.value) },
    })),
  };
}

/** Lines over x (seconds, ms, …): one line per series. */
export function lineChart(o: { title: string; subtitle?: string; xName: string; yName: string; series: XYSeries[]; log?: boolean }) {
  return {
    title: title(o.title, o.subtitle),
    legend: { top: o.subtitle ? 64 : 34, data: o.series.map((s) => s.name) },
    grid: { left: 80, right: 40, top: o.subtitle ? 100 : 72, bottom: 60 },
    xAxis: { type: "value", name: o.xName, nameLocation: "middle", nameGap: 30 },
    yAxis: { type: o.log ? "log" : "value", name: o.yName, nameLocation: "middle", nameGap: 56 },
    series: o.series.map((s) => ({ type: "line", name: s.name, data: s.points, showSymbol: s.points.length <= 60, symbolSize: 4 })),
  };
}

/** A number as a short label: 1234567 → 1.23M, 0.456 → 0.46. */
export function formatValue(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "";
  const a = Math.abs(v);
  if (a >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (a >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

/** Where benchmarks write their JSON summary and charts unless told otherwise (`--out`; gitignored). */
export const DEFAULT_OUT_DIR = "artifacts/benchmarks";

/**
 * Writes a benchmark's outputs into `dir`: `<name>.json` (the summary printed as stdout's last line)
 * and one PNG per chart (`<name>-<chart>.png`); returns the paths written. A chart that cannot be
 * drawn is reported, never fatal: the figures are already printed.
 */
export function writeBenchOutputs(dir: string, name: string, summaryJson: string, charts: Chart[]): string[] {
  mkdirSync(dir, { recursive: true });
  const written = [`${dir}/${name}.json`];
  writeFileSync(written[0]!, `${summaryJson}\n`);
  for (const c of charts) {
    try {
      written.push(writePng(`${dir}/${name}-${c.chart}.png`, c.option, c.size));
    } catch (err) {
      process.stderr.write(`chart ${name}-${c.chart}: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  }
  return written;
}
