import type { Options } from "./options.js";
import type { Mode } from "./protocol.js";
import { violations, type Spread, type Tally } from "./tally.js";

export type Measured = {
  title: string;
  tally: Tally;
  /** CPU over the schedule and drain (100% = one core); NaN when unreadable. */
  cpu: { producerPct: number; workersPct: number[]; redisPct: number };
  /** Share of both cores busy in the second before the target started (another process's load shows here). */
  hostBusyPct: number;
  drainSec: number;
  /** Jobs still in the queue after the drain, by state (BullMQ targets). */
  leftInQueue: Record<string, number> | null;
  /** Log lines at warn or above, and stray output, from the target's processes. */
  warnings: Record<string, number>;
};
export type Result = Measured | { title: string; error: string };
export type Results = Partial<Record<Mode, Result>>;

export const TITLES: Record<Mode, string> = {
  timers: "setTimeout per job, in the scheduling process (the machine's floor)",
  bullmq: "bare BullMQ: Queue.add with a delay; Worker processes",
  pinlive: "ours: createJobs().schedule on a producer node; createJobs workers",
};

const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "n/a");
const ms = (n: number | null) => (n === null ? "n/a" : `${n.toFixed(Math.abs(n) < 10 ? 2 : 1)} ms`);
const pct = (n: number) => (Number.isFinite(n) ? `${n.toFixed(0)}%` : "n/a");
const kv = (o: Record<string, number>) => Object.entries(o).map(([k, v]) => `${k} ×${v}`).join(", ") || "none";
const round = (n: number | null, d = 2) => (n === null || !Number.isFinite(n) ? null : Number(n.toFixed(d)));
const spreadLine = (s: Spread) => `p50 ${ms(s.p50)} / p90 ${ms(s.p90)} / p99 ${ms(s.p99)} / p99.9 ${ms(s.p999)} / max ${ms(s.max)} (min ${ms(s.min)})`;
const ok = (r: Result | undefined): Measured | null => (r && !("error" in r) ? r : null);

function section(title: string, rows: [string, string][]): string {
  return [`── ${title} ${"─".repeat(Math.max(0, 96 - title.length))}`, ...rows.map(([k, v]) => `  ${k.padEnd(30)} ${v}`)].join("\n");
}

export function targetTable(mode: Mode, r: Result, o: Options): string {
  if ("error" in r) return section(`${mode}: ${r.title}`, [["FAILED", r.error]]);
  const t = r.tally;
  const bad = violations(t);
  return section(`${mode}: ${r.title}`, [
    ["scheduled", `${int(t.scheduled)} / ${int(t.planned)} → ${int(t.scheduledPerSec)} jobs/s (offered ${int(o.rate)}/s for ${o.seconds} s)${t.addFailed ? `, ${t.addFailed} FAILED` : ""}`],
    ["fired", `${int(t.fired)} distinct in ${int(t.runs)} runs → ${int(t.firedPerSec)} jobs/s; per node ${t.perNode.map(int).join(" + ")}`],
    ["missed / duplicates", `${t.missed} / ${t.duplicates}${t.unexpected ? `, ${t.unexpected} unexpected` : ""}, retries ${t.retries}, early ${t.early}`],
    ["lateness (fired − due)", spreadLine(t.lateness)],
    ["  jobs due while adds arrive", `${spreadLine(t.latenessWhileAdding)}, ${int(t.latenessWhileAdding.n)} jobs`],
    ["  jobs due after the last add", `${spreadLine(t.latenessAfterAdding)}, ${int(t.latenessAfterAdding.n)} jobs`],
    ["worst second, p99", ms(t.worstSecondP99)],
    ["due drift (queue − intended)", spreadLine(t.drift)],
    ["add round trip", mode === "timers" ? "n/a (no Redis)" : spreadLine(t.addMs)],
    ["issue lag (producer)", spreadLine(t.issueLagMs)],
    ["CPU (100% = 1 core)", `producer ${pct(r.cpu.producerPct)}, workers ${r.cpu.workersPct.map(pct).join(" + ") || "none"}, Redis ${pct(r.cpu.redisPct)}`],
    ["host busy before start", `${pct(r.hostBusyPct)} of ${"both cores"}`],
    ["drain after last due", `${r.drainSec.toFixed(1)} s`],
    ["left in the queue", r.leftInQueue ? kv(r.leftInQueue) : "n/a"],
    ["warn/error output", kv(r.warnings)],
    ["verdict", bad.length ? `FAILED: ${bad.join("; ")}` : "every scheduled job ran exactly once"],
  ]);
}

/** One row per target, the headline figures side by side. */
export function comparisonTable(results: Results): string {
  const cols = ["target", "scheduled/s", "fired/s", "p50", "p99", "max", "p99 adding", "p99 after", "missed", "dup", "worker CPU", "Redis CPU"];
  const rows = Object.entries(results).map(([name, r]) => {
    const m = ok(r);
    if (!m) return [name, "failed", ...cols.slice(2).map(() => "")];
    const t = m.tally;
    const workers = m.cpu.workersPct.reduce((a, b) => a + b, 0);
    return [
      name,
      int(t.scheduledPerSec),
      int(t.firedPerSec),
      ms(t.lateness.p50),
      ms(t.lateness.p99),
      ms(t.lateness.max),
      ms(t.latenessWhileAdding.p99),
      ms(t.latenessAfterAdding.p99),
      String(t.missed),
      String(t.duplicates),
      m.cpu.workersPct.length ? pct(workers) : "—",
      pct(m.cpu.redisPct),
    ];
  });
  const widths = cols.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(cols), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** Ours against each baseline; `goal` is the target in BENCHMARKS.md (null: for reading only). */
const RATIOS = [
  { key: "pinlive/bullmq p99 lateness", num: "pinlive", den: "bullmq", pick: (t: Tally) => t.lateness.p99, goal: 1.5 },
  { key: "pinlive/bullmq p50 lateness", num: "pinlive", den: "bullmq", pick: (t: Tally) => t.lateness.p50, goal: null },
  { key: "pinlive/timers p99 lateness", num: "pinlive", den: "timers", pick: (t: Tally) => t.lateness.p99, goal: null },
  { key: "pinlive/timers p50 lateness", num: "pinlive", den: "timers", pick: (t: Tally) => t.lateness.p50, goal: null },
  { key: "pinlive/timers fired jobs/s", num: "pinlive", den: "timers", pick: (t: Tally) => t.firedPerSec, goal: null },
] as const;

/**
 * Absolute targets for ours: the offered rate held, nothing lost or doubled, and p99 lateness within
 * one Redis wake-up period (1000 / hz ms: an idle Redis times out BullMQ's blocking wait only on
 * its hz tick) plus 25 ms.
 */
export const TARGET = { firedShare: 0.99, p99SlackMs: 25 };
export const p99TargetMs = (hz: number): number => Math.round(1000 / Math.max(1, hz) + TARGET.p99SlackMs);

export function ratios(results: Results): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const { key, num, den, pick } of RATIOS) {
    const a = ok(results[num]);
    const b = ok(results[den]);
    const [x, y] = [a ? pick(a.tally) : null, b ? pick(b.tally) : null];
    out[key] = x !== null && y !== null && y > 0 ? Number((x / y).toFixed(3)) : null;
  }
  return out;
}

/** The targets for ours, each with its verdict. */
export function verdicts(results: Results, o: Options, hz: number): { check: string; measured: string; met: boolean | null }[] {
  const p = ok(results.pinlive);
  const r = ratios(results);
  const out: { check: string; measured: string; met: boolean | null }[] = [];
  const t = p?.tally;
  out.push({
    check: `fired ≥ ${TARGET.firedShare * 100}% of the offered ${int(o.rate)} jobs/s`,
    measured: t ? `${int(t.firedPerSec)} jobs/s` : "n/a",
    met: t ? t.firedPerSec >= TARGET.firedShare * o.rate && t.scheduledPerSec >= TARGET.firedShare * o.rate : null,
  });
  out.push({ check: "every job exactly once (0 missed, 0 duplicates)", measured: t ? `${t.missed} missed, ${t.duplicates} duplicates` : "n/a", met: t ? violations(t).length === 0 : null });
  const bound = p99TargetMs(hz);
  out.push({ check: `p99 lateness ≤ ${bound} ms (1000/hz + ${TARGET.p99SlackMs}, hz ${hz})`, measured: t ? ms(t.lateness.p99) : "n/a", met: t?.lateness.p99 != null ? t.lateness.p99 <= bound : null });
  for (const { key, goal } of RATIOS) {
    if (goal === null) continue;
    const v = r[key] ?? null;
    out.push({ check: `${key} ≤ ${goal}`, measured: v === null ? "n/a" : String(v), met: v === null ? null : v <= goal });
  }
  return out;
}

export function ratioLines(results: Results, o: Options, hz: number): string {
  const r = ratios(results);
  const lines = RATIOS.map(({ key }) => `  ${key.padEnd(30)} ${r[key] ?? "n/a"}`);
  const v = verdicts(results, o, hz).map((x) => `  ${x.check.padEnd(52)} ${x.measured.padStart(24)}  ${x.met === null ? "not measured" : x.met ? "meets target" : "BELOW target"}`);
  return `ratios\n${lines.join("\n")}\n\ntargets (ours)\n${v.join("\n")}`;
}

/** The per-target figures of the JSON summary line. */
export function summary(mode: Mode, r: Result): object {
  if ("error" in r) return { error: r.error };
  const t = r.tally;
  return {
    scheduled: t.scheduled,
    scheduledPerSec: round(t.scheduledPerSec, 1),
    fired: t.fired,
    firedPerSec: round(t.firedPerSec, 1),
    missed: t.missed,
    duplicates: t.duplicates,
    addFailed: t.addFailed,
    unexpected: t.unexpected,
    retries: t.retries,
    early: t.early,
    p50Ms: round(t.lateness.p50),
    p90Ms: round(t.lateness.p90),
    p99Ms: round(t.lateness.p99),
    p999Ms: round(t.lateness.p999),
    maxMs: round(t.lateness.max),
    worstSecondP99Ms: round(t.worstSecondP99),
    whileAddingP50Ms: round(t.latenessWhileAdding.p50),
    whileAddingP99Ms: round(t.latenessWhileAdding.p99),
    afterAddingP50Ms: round(t.latenessAfterAdding.p50),
    afterAddingP99Ms: round(t.latenessAfterAdding.p99),
    driftP99Ms: round(t.drift.p99),
    addP99Ms: mode === "timers" ? null : round(t.addMs.p99),
    producerCpuPct: round(r.cpu.producerPct, 0),
    workersCpuPct: r.cpu.workersPct.map((c) => round(c, 0)),
    redisCpuPct: round(r.cpu.redisPct, 0),
    hostBusyPct: round(r.hostBusyPct, 0),
    violations: violations(t),
  };
}
