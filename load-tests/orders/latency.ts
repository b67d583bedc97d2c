import { percentile } from "../fanout/report.js";

export type Latency = { n: number; p50Ms: number | null; p99Ms: number | null; maxMs: number | null };

/** Latency samples of one kind of outcome, kept whole (a run is at most a few hundred thousand). */
export class Samples {
  private readonly ms: number[] = [];

  add(ms: number): void {
    this.ms.push(ms);
  }

  get count(): number {
    return this.ms.length;
  }

  summary(): Latency {
    const sorted = [...this.ms].sort((a, b) => a - b);
    return { n: sorted.length, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), maxMs: sorted.at(-1) ?? null };
  }
}

export const bump = (counts: Record<string, number>, key: string) => void (counts[key] = (counts[key] ?? 0) + 1);
