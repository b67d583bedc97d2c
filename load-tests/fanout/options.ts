import { parseArgs } from "node:util";
import { DEFAULT_OUT_DIR } from "../shared/charts.js";
import { intFlag } from "../shared/flags.js";

export const TARGETS = ["hub", "uws-batch", "hub-single", "uws", "socketio"] as const;
export type TargetName = (typeof TARGETS)[number];

export type Options = {
  /** Where the JSON summary and the PNG charts are written. */
  out: string;
  viewers: number;
  seconds: number;
  rate: number;
  targets: TargetName[];
  workers: number;
  senders: number;
  warmupSec: number;
  /** Times the whole target list runs; even rounds run it in reverse, so no target always goes first. */
  rounds: number;
  /** When set, each server runs under `node --cpu-prof` and its profile lands in `<dir>/<target>-r<round>/`. */
  cpuProfDir: string | null;
};

export const USAGE = `usage: npm run bench:fanout -- [--viewers N] [--seconds S] [--rate R] [--targets hub,uws-batch,hub-single,uws,socketio] [--workers W] [--senders K] [--out DIR]
  --viewers  viewers in the room, 1..20000 (default 2000)
  --seconds  measured phase, 1..300 (default 10)
  --rate     comments per second into the room, 1..20000 (default 1000)
  --targets  comma-separated, run in this order (default hub,uws-batch,hub-single,uws,socketio)
  --workers  driver processes holding the viewers, 1..8 (default 2)
  --senders  sender connections, 1..16 (default 4)
  --rounds   run the target list N times, 1..9 (default 1), even rounds in reverse; the summary takes medians
  --cpu-prof profile each server with node --cpu-prof into DIR/<target>-r<round>/ (summarize: profile-summary.ts)
  --out      folder for the JSON summary and PNG charts (default artifacts/benchmarks)`;

const int = (name: string, raw: string | undefined, def: number, min: number, max: number) => intFlag(name, raw, def, min, max, USAGE);

/** Throws with the usage text on any unknown flag or out-of-range value. */
export function parseOptions(argv: string[]): Options | "help" {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      viewers: { type: "string" },
      seconds: { type: "string" },
      rate: { type: "string" },
      targets: { type: "string" },
      workers: { type: "string" },
      senders: { type: "string" },
      rounds: { type: "string" },
      "cpu-prof": { type: "string" },
      out: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help";
  const names = (values.targets ?? TARGETS.join(",")).split(",").map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !(TARGETS as readonly string[]).includes(n));
  if (unknown.length > 0 || names.length === 0) throw new Error(`unknown target(s): ${unknown.join(",")}\n${USAGE}`);
  return {
    viewers: int("viewers", values.viewers, 2000, 1, 20_000),
    seconds: int("seconds", values.seconds, 10, 1, 300),
    rate: int("rate", values.rate, 1000, 1, 20_000),
    targets: [...new Set(names)] as TargetName[],
    workers: int("workers", values.workers, 2, 1, 8),
    senders: int("senders", values.senders, 4, 1, 16),
    warmupSec: 2,
    rounds: int("rounds", values.rounds, 1, 1, 9),
    cpuProfDir: values["cpu-prof"] ?? null,
    out: values.out ?? DEFAULT_OUT_DIR,
  };
}
