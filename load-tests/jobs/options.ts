import { parseArgs } from "node:util";
import { DEFAULT_OUT_DIR } from "../shared/charts.js";
import { intFlag } from "../shared/flags.js";
import type { Mode } from "./protocol.js";

export const TARGETS = ["timers", "bullmq", "pinlive"] as const satisfies readonly Mode[];

export type Options = {
  /** Where the JSON summary and the PNG charts are written. */
  out: string;
  rate: number;
  seconds: number;
  delayMs: number;
  workers: number;
  concurrency: number;
  lockMs: number;
  targets: Mode[];
  redisUrl: string;
};

export const USAGE = `usage: npm run bench:jobs -- [--rate R] [--seconds S] [--delay-ms D] [--workers W] [--concurrency C] [--targets timers,bullmq,pinlive] [--redis-url URL] [--out DIR]
  --rate         jobs scheduled per second, 1..10000 (default 1000)
  --seconds      how long the schedule runs, 1..300 (default 20)
  --delay-ms     how far ahead each job is due, 0..600000 (default 2000)
  --workers      worker processes for the BullMQ targets, 1..8 (default 2)
  --concurrency  jobs in flight per worker process, 1..1000 (default 16, JOBS_CONCURRENCY's default)
  --targets      comma-separated, run in this order (default timers,bullmq,pinlive)
  --redis-url    redis://127.0.0.1:<port> (default redis://127.0.0.1:6379); another local Redis, e.g. one with a higher hz
  --out          folder for the JSON summary and PNG charts (default artifacts/benchmarks)`;

const int = (name: string, raw: string | undefined, def: number, min: number, max: number) => intFlag(name, raw, def, min, max, USAGE);

/** Throws with the usage text on any unknown flag or out-of-range value. */
export function parseOptions(argv: string[]): Options | "help" {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      rate: { type: "string" },
      seconds: { type: "string" },
      "delay-ms": { type: "string" },
      workers: { type: "string" },
      concurrency: { type: "string" },
      targets: { type: "string" },
      "redis-url": { type: "string" },
      out: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help";
  const names = (values.targets ?? TARGETS.join(",")).split(",").map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !(TARGETS as readonly string[]).includes(n));
  if (unknown.length > 0 || names.length === 0) throw new Error(`unknown target(s): ${unknown.join(",")}\n${USAGE}`);
  const o: Options = {
    rate: int("rate", values.rate, 1000, 1, 10_000),
    seconds: int("seconds", values.seconds, 20, 1, 300),
    delayMs: int("delay-ms", values["delay-ms"], 2000, 0, 600_000),
    workers: int("workers", values.workers, 2, 1, 8),
    concurrency: int("concurrency", values.concurrency, 16, 1, 1000),
    lockMs: 30_000,
    targets: [...new Set(names)] as Mode[],
    redisUrl: values["redis-url"] ?? "redis://127.0.0.1:6379",
    out: values.out ?? DEFAULT_OUT_DIR,
  };
  if (!/^redis:\/\/127\.0\.0\.1:\d{1,5}$/.test(o.redisUrl)) throw new Error(`--redis-url must be redis://127.0.0.1:<port>\n${USAGE}`);
  if (o.rate * o.seconds > 1_000_000) throw new Error(`--rate × --seconds (${o.rate * o.seconds}) must be at most 1,000,000 jobs\n${USAGE}`);
  return o;
}
