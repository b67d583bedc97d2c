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
  /** The host's 1, 5 and 15 minute load averages when the measured phase began. */
  loadAvg: number[];
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
    ["host load average", r.loadAvg.join(" / ")],
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
  const cols = ["target", "events/s", "frames/s", "p50", "p99", "loss", "RSS/conn", "server CPU", "events/CPU-s", "loop p99"];
  const rows = Object.entries(results).map(([name, r]) =>
    "error" in r
      ? [name, "failed", "", "", "", "", "", "", "", ""]
      : [
          name,
          int(r.eventsPerSec),
          int(r.framesPerSec),
          ms(r.p50Ms),
          ms(r.p99Ms),
          `${r.lossPct.toFixed(2)}%`,
          Number.isFinite(r.rssPerConnBytes) ? `${(r.rssPerConnBytes / 1024).toFixed(1)} KB` : "n/a",
          `${r.serverCpuPct.toFixed(1)}%`,
          int(eventsPerCpuSec(r)),
          ms(loopLagP99(r)),
        ],
  );
  const widths = cols.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(cols), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

type Ok = Measured;
const ok = (r: Result | undefined): Ok | null => (r && !("error" in r) ? r : null);
const finite = (n: number | null | undefined) => (n === null || n === undefined || !Number.isFinite(n) ? null : n);

/** Comment events delivered per second of the server's CPU (all its threads). */
export const eventsPerCpuSec = (r: Measured) => (r.serverCpuPct > 0 ? r.eventsPerSec / (r.serverCpuPct / 100) : NaN);
/** The server's event-loop lag p99 over the measured phase, from its /metrics; null when it has none. */
export const loopLagP99 = (r: Measured) => finite(r.serverMetrics.nodejs_eventloop_lag_p99_ms);

/** A figure of the run and its goal; `at` names the viewer count the goal is set for (other runs print it unjudged). */
type Figure = { key: string; goal: number; better: "higher" | "lower"; at?: number; value: (rs: Results) => number | null };

const pair = (rs: Results, a: TargetName, b: TargetName, f: (x: Ok, y: Ok) => number | null) => {
  const [x, y] = [ok(rs[a]), ok(rs[b])];
  return x && y ? finite(f(x, y)) : null;
};
const FIGURES: Figure[] = [
  { key: "hub-single/uws frames/s", goal: 0.8, better: "higher", value: (rs) => pair(rs, "hub-single", "uws", (a, b) => (b.framesPerSec > 0 ? a.framesPerSec / b.framesPerSec : null)) },
  { key: "hub/socketio delivered events/s", goal: 10, better: "higher", value: (rs) => pair(rs, "hub", "socketio", (a, b) => (b.eventsPerSec > 0 ? a.eventsPerSec / b.eventsPerSec : null)) },
  { key: "hub/uws-batch server CPU", goal: 1.2, better: "lower", value: (rs) => pair(rs, "hub", "uws-batch", (a, b) => (b.serverCpuPct > 0 ? a.serverCpuPct / b.serverCpuPct : null)) },
  // The same target per unit of work: fair when either side fell behind and so delivered less for its CPU.
  { key: "hub/uws-batch CPU per delivered event", goal: 1.2, better: "lower", value: (rs) => pair(rs, "hub", "uws-batch", (a, b) => (eventsPerCpuSec(a) > 0 ? eventsPerCpuSec(b) / eventsPerCpuSec(a) : null)) },
  { key: "hub-uws-batch p50 ms", goal: 20, better: "lower", value: (rs) => pair(rs, "hub", "uws-batch", (a, b) => (a.p50Ms !== null && b.p50Ms !== null ? a.p50Ms - b.p50Ms : null)) },
  { key: "hub/uws-batch p99", goal: 1.5, better: "lower", value: (rs) => pair(rs, "hub", "uws-batch", (a, b) => (a.p99Ms !== null && b.p99Ms ? a.p99Ms / b.p99Ms : null)) },
  { key: "hub event-loop lag p99 ms", goal: 20, better: "lower", value: (rs) => { const h = ok(rs.hub); return h ? loopLagP99(h) : null; } },
  { key: "hub events per CPU-second", goal: 5_000_000, better: "higher", at: 10_000, value: (rs) => { const h = ok(rs.hub); return h ? finite(eventsPerCpuSec(h)) : null; } },
];

/** Each figure rounded, or null when a target it needs is missing or failed. */
export function ratios(results: Results): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const f of FIGURES) {
    const v = f.value(results);
    out[f.key] = v === null ? null : Number(v.toFixed(Math.abs(v) >= 1000 ? 0 : 3));
  }
  return out;
}

/** One line per figure with its goal and verdict; a goal set for another viewer count is shown, not judged. */
export function ratioLines(r: Record<string, number | null>, viewers: number): string {
  return FIGURES.map(({ key, goal, better, at }) => {
    const v = r[key];
    const sign = better === "higher" ? "≥" : "≤";
    const met = v !== null && v !== undefined && (better === "higher" ? v >= goal : v <= goal);
    const verdict =
      v === null || v === undefined
        ? "not measured"
        : at !== undefined && at !== viewers
          ? `set for ${int(at)} viewers, not judged at ${int(viewers)}`
          : met
            ? "meets target"
            : better === "higher"
              ? "BELOW target"
              : "ABOVE target";
    return `  ${key.padEnd(34)} ${v === null || v === undefined ? "n/a" : v.toLocaleString("en-US")}  (target ${sign} ${goal.toLocaleString("en-US")}: ${verdict})`;
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
    serverCpuPct: round(r.serverCpuPct, 1),
    eventsPerCpuSec: round(eventsPerCpuSec(r)),
    loadAvg1m: r.loadAvg[0] ?? null,
    closed: r.closed,
    senderErrors: Object.values(r.senderErrors).reduce((a, b) => a + b, 0),
    ...(Object.keys(r.serverMetrics).length > 0 ? { serverMetrics: r.serverMetrics } : {}),
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * Field by field across rounds: the median of the numbers (nested objects likewise, nulls skipped), else the
 * first round's value. One round returns it as it is.
 */
export function medianOf(rounds: object[]): object {
  if (rounds.length === 1) return rounds[0]!;
  const out: Record<string, unknown> = {};
  const keys = new Set(rounds.flatMap((r) => Object.keys(r)));
  for (const key of keys) {
    const values = rounds.map((r) => (r as Record<string, unknown>)[key]).filter((v) => v !== undefined && v !== null);
    if (values.length > 0 && values.every((v) => typeof v === "number")) out[key] = Number(median(values).toFixed(3));
    else if (values.length > 0 && values.every((v) => typeof v === "object" && !Array.isArray(v))) out[key] = medianOf(values);
    else out[key] = values[0] ?? null;
  }
  return out;
}
