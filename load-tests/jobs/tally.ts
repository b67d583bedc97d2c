import { percentile } from "../fanout/report.js";
import type { FiredReply, ProduceReply } from "./protocol.js";

export type Spread = { n: number; min: number | null; p50: number | null; p90: number | null; p99: number | null; p999: number | null; max: number | null };

/** Quantiles of a sample, in its own unit. */
export function spread(values: ArrayLike<number>): Spread {
  const sorted = Float64Array.from(values).sort();
  const arr = Array.from(sorted);
  return {
    n: arr.length,
    min: arr[0] ?? null,
    p50: percentile(arr, 50),
    p90: percentile(arr, 90),
    p99: percentile(arr, 99),
    p999: percentile(arr, 99.9),
    max: arr.at(-1) ?? null,
  };
}

export type Tally = {
  planned: number;
  /** Adds acknowledged by Redis (timers: every timer set). */
  scheduled: number;
  addFailed: number;
  firstAddError: string | null;
  /** Achieved: acknowledged adds ÷ (last acknowledgement − schedule start). */
  scheduledPerSec: number;
  /** Handler runs, duplicates included. */
  runs: number;
  /** Distinct jobs that ran. */
  fired: number;
  /** Achieved: distinct jobs fired ÷ (last firing − first due time). */
  firedPerSec: number;
  /** Acknowledged and never ran. */
  missed: number;
  /** Runs beyond the first of a job. */
  duplicates: number;
  /** Ran although its add was not acknowledged (or with a seq outside the schedule). */
  unexpected: number;
  retries: number;
  /** Jobs by the node that ran them (workers in start order; timers: the producer). */
  perNode: number[];
  /** Firing time − due time of every job's first run, ms. */
  lateness: Spread;
  /** The same, for jobs due while the producer was still adding (Redis busy with adds) and for those due after. */
  latenessWhileAdding: Spread;
  latenessAfterAdding: Spread;
  /** Runs more than 1 ms before their due time. */
  early: number;
  /** The queue's own due time − the intended one, ms (BullMQ: timestamp + delay, set when the add is built). */
  drift: Spread;
  addMs: Spread;
  issueLagMs: Spread;
  /** The worst second of the schedule: the largest p99 lateness among jobs grouped by due second. */
  worstSecondP99: number | null;
  /** [due second, p99 lateness of the jobs due in it], in order (for the chart over time). */
  p99BySecond: [number, number][];
};

/** Checks every scheduled job by its seq (ran exactly once?) and measures lateness of first runs. */
export function tally(produced: ProduceReply, fired: FiredReply[], t0: number, delayMs: number): Tally {
  const n = produced.planned;
  const runs = new Uint32Array(n);
  const late: number[] = [];
  const whileAdding: number[] = [];
  const afterAdding: number[] = [];
  const drift: number[] = [];
  const bySecond = new Map<number, number[]>();
  let [unexpected, early, lastFiredAt, retries, total] = [0, 0, -Infinity, 0, 0];
  for (const f of fired) {
    retries += f.retries;
    total += f.seq.length;
    for (let i = 0; i < f.seq.length; i++) {
      const seq = f.seq[i]!;
      if (!(seq >= 0 && seq < n && Number.isInteger(seq)) || produced.outcome[seq] !== 1) {
        unexpected++;
        if (!(seq >= 0 && seq < n)) continue;
      }
      if (runs[seq]!++ > 0) continue;
      const at = f.at[i]!;
      const l = f.firedAt[i]! - at;
      late.push(l);
      (at <= produced.lastAckAt ? whileAdding : afterAdding).push(l);
      drift.push(f.due[i]! - at);
      if (l < -1) early++;
      if (f.firedAt[i]! > lastFiredAt) lastFiredAt = f.firedAt[i]!;
      const second = Math.floor((at - t0 - delayMs) / 1000);
      let bucket = bySecond.get(second);
      if (!bucket) bySecond.set(second, (bucket = []));
      bucket.push(l);
    }
  }
  let [scheduled, addFailed, fireCount, missed, duplicates] = [0, 0, 0, 0, 0];
  for (let seq = 0; seq < n; seq++) {
    if (produced.outcome[seq] === 1) scheduled++;
    else if (produced.outcome[seq] === 2) addFailed++;
    const r = runs[seq]!;
    if (r > 0) fireCount++;
    if (r > 1) duplicates += r - 1;
    if (r === 0 && produced.outcome[seq] === 1) missed++;
  }
  let worstSecondP99: number | null = null;
  const p99BySecond: [number, number][] = [];
  for (const [second, bucket] of bySecond) {
    const p = spread(bucket).p99;
    if (p !== null && (worstSecondP99 === null || p > worstSecondP99)) worstSecondP99 = p;
    if (p !== null) p99BySecond.push([second, p]);
  }
  p99BySecond.sort((a, b) => a[0] - b[0]);
  const firstDue = t0 + delayMs;
  return {
    planned: n,
    scheduled,
    addFailed,
    firstAddError: produced.firstError,
    scheduledPerSec: produced.lastAckAt > t0 ? scheduled / ((produced.lastAckAt - t0) / 1000) : 0,
    runs: total,
    fired: fireCount,
    firedPerSec: lastFiredAt > firstDue ? fireCount / ((lastFiredAt - firstDue) / 1000) : 0,
    missed,
    duplicates,
    unexpected,
    retries,
    perNode: fired.map((f) => f.seq.length),
    lateness: spread(late),
    latenessWhileAdding: spread(whileAdding),
    latenessAfterAdding: spread(afterAdding),
    early,
    drift: spread(drift),
    addMs: spread(produced.addMs),
    issueLagMs: spread(produced.issueLagMs),
    worstSecondP99,
    p99BySecond,
  };
}

/** What makes a run fail: anything but "every scheduled job ran exactly once". */
export function violations(t: Tally): string[] {
  const out: string[] = [];
  if (t.addFailed > 0) out.push(`${t.addFailed} adds failed (${t.firstAddError ?? "?"})`);
  if (t.missed > 0) out.push(`${t.missed} scheduled jobs never ran`);
  if (t.duplicates > 0) out.push(`${t.duplicates} duplicate runs`);
  if (t.unexpected > 0) out.push(`${t.unexpected} runs of jobs not scheduled`);
  if (t.early > 0) out.push(`${t.early} jobs ran more than 1 ms early`);
  return out;
}
