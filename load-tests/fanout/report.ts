import type { TargetName } from "./options.js";

export type Measured = {
  title: string;
  viewers: number;
  connected: number;
  connectFailed: number;
  connectError: string | null;
  connectSec: number;
  sent: number;
  sentMeasured: number;
  eventsPerSec: number;
  framesPerSec: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  samples: number;
  sampledViewers: number;
  expected: number;
  delivered: number;
  lossPct: number;
  drainSec: number;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  rssEndBytes: number;
  rssPerConnBytes: number;
  serverCpuPct: number;
  driverCpuPct: number[];
  closed: number;
  closeCodes: Record<string, number>;
  senderErrors: Record<string, number>;
  serverWarnings: Record<string, number>;
  /** The server's own figures over the measured phase, when it exposes any. */
  serverMetrics: Record<string, number>;
};
export type Result = Measured | { title: string; error: string };
export type Results = Partial<Record<TargetName, Result>>;

const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "n/a");
const mb = (b: number) => (Number.isFinite(b) ? `${(b / 1048576).toFixed(1)} MB` : "n/a");
const ms = (n: number | null) => (n === null ? "n/a" : `${n.toFixed(n < 10 ? 2 : 1)} ms`);
const kv = (o: Record<string, number>) => Object.entries(o).map(([k, v]) => `${k}×${v}`).join(", ") || "none";

/** p-th percentile (0..100) of an ascending array, by nearest rank; null when empty. */
export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** A two-column table of one target's figures. */
export function targetTable(name: TargetName, r: Result): string {
  const head = `── ${name}: ${r.title} ${"─".repeat(Math.max(0, 70 - name.length - r.title.length))}`;
  if ("error" in r) return `${head}\n  FAILED: ${r.error}`;
  const rows: [string, string][] = [
    ["viewers connected", `${int(r.connected)} / ${int(r.viewers)} in ${r.connectSec.toFixed(1)} s${r.connectError ? ` (first error: ${r.connectError})` : ""}`],
    ["comments sent", `${int(r.sent)} (${int(r.sentMeasured)} in the measured phase)`],
    ["delivered events/s", int(r.eventsPerSec)],
    ["frames/s", int(r.framesPerSec)],
    ["latency p50 / p99 / max", `${ms(r.p50Ms)} / ${ms(r.p99Ms)} / ${ms(r.maxMs)} (${int(r.samples)} samples on ${r.sampledViewers} viewers)`],
    ["delivered / expected", `${int(r.delivered)} / ${int(r.expected)}, loss ${r.lossPct.toFixed(2)}% (drained ${r.drainSec.toFixed(1)} s)`],
    ["server RSS", `${mb(r.rssBeforeBytes)} idle → ${mb(r.rssAfterBytes)} connected → ${mb(r.rssEndBytes)} at end`],
    [
      "RSS per connection",
      Number.isFinite(r.rssPerConnBytes)
        ? `${(r.rssPerConnBytes / 1024).toFixed(1)} KB`
        : `n/a: RSS fell by ${mb(r.rssBeforeBytes - r.rssAfterBytes)} while viewers connected (the server freed memory)`,
    ],
    ["CPU (100% = 1 core)", `server ${r.serverCpuPct.toFixed(0)}%, driver workers ${r.driverCpuPct.map((c) => `${c.toFixed(0)}%`).join(" + ")}`],
    ["viewer closes", `${r.closed}${r.closed ? ` (${kv(r.closeCodes)})` : ""}`],
    ["sender errors", kv(r.senderErrors)],
    ["server warn/error logs", kv(r.serverWarnings)],
    ...(Object.keys(r.serverMetrics).length > 0
      ? [["server /metrics", Object.entries(r.serverMetrics).map(([k, v]) => `${k}=${Number(v.toFixed(1))}`).join(", ")] as [string, string]]
      : []),
  ];
  return [head, ...rows.map(([k, v]) => `  ${k.padEnd(24)} ${v}`)].join("\n");
}

/** One row per target, the headline figures side by side. */
export function comparisonTable(results: Results): string {
  const cols = ["target", "events/s", "frames/s", "p50", "p99", "loss", "RSS/conn", "server CPU"];
  const rows = Object.entries(results).map(([name, r]) =>
    "error" in r
      ? [name, "failed", "", "", "", "", "", ""]
      : [
          name,
          int(r.eventsPerSec),
          int(r.framesPerSec),
          ms(r.p50Ms),
          ms(r.p99Ms),
          `${r.lossPct.toFixed(2)}%`,
          Number.isFinite(r.rssPerConnBytes) ? `${(r.rssPerConnBytes / 1024).toFixed(1)} KB` : "n/a",
          `${r.serverCpuPct.toFixed(0)}%`,
        ],
  );
  const widths = cols.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(cols), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

const RATIOS = [
  { key: "hub-single/uws frames/s", num: "hub-single", den: "uws", field: "framesPerSec", goal: 0.8 },
  { key: "hub/socketio delivered events/s", num: "hub", den: "socketio", field: "eventsPerSec", goal: 10 },
] as const;

/** Each ratio, or null when either side is missing or failed. */
export function ratios(results: Results): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const { key, num, den, field } of RATIOS) {
    const a = results[num];
    const b = results[den];
    out[key] = a && b && !("error" in a) && !("error" in b) && b[field] > 0 ? Number((a[field] / b[field]).toFixed(3)) : null;
  }
  return out;
}

export function ratioLines(r: Record<string, number | null>): string {
  return RATIOS.map(({ key, goal }) => {
    const v = r[key];
    const verdict = v === null || v === undefined ? "not measured" : v >= goal ? "meets target" : "BELOW target";
    return `  ${key.padEnd(32)} ${v ?? "n/a"}  (target ≥ ${goal}: ${verdict})`;
  }).join("\n");
}

/** The per-target figures of the JSON summary line: numbers rounded, diagnostics kept. */
export function summary(r: Result): object {
  if ("error" in r) return { error: r.error };
  const round = (n: number | null, d = 0) => (n === null || !Number.isFinite(n) ? null : Number(n.toFixed(d)));
  return {
    connected: r.connected,
    sent: r.sent,
    eventsPerSec: round(r.eventsPerSec),
    framesPerSec: round(r.framesPerSec),
    p50Ms: round(r.p50Ms, 2),
    p99Ms: round(r.p99Ms, 2),
    expected: r.expected,
    delivered: r.delivered,
    lossPct: round(r.lossPct, 3),
    rssBeforeBytes: round(r.rssBeforeBytes),
    rssAfterBytes: round(r.rssAfterBytes),
    rssPerConnBytes: round(r.rssPerConnBytes),
    serverCpuPct: round(r.serverCpuPct),
    closed: r.closed,
    senderErrors: Object.values(r.senderErrors).reduce((a, b) => a + b, 0),
    ...(Object.keys(r.serverMetrics).length > 0 ? { serverMetrics: r.serverMetrics } : {}),
  };
}
