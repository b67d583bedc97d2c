import { parseArgs } from "node:util";
import { DEFAULT_OUT_DIR } from "../shared/charts.js";
import { intFlag } from "../shared/flags.js";

export type Options = {
  /** Where the JSON summary and the PNG charts are written. */
  out: string;
  /** Units on sale (the SKU's stock too). */
  quantity: number;
  /** Units per buyer. */
  limit: number;
  users: number;
  concurrency: number;
  /** Each timed phase: refusals, cart checkout, and the PostgreSQL and bare POST ceilings. */
  seconds: number;
  /** The Redis ceiling's units: large, so its rate is not start-up noise. */
  gateUnits: number;
  /** When set, the server runs under `node --cpu-prof` into this folder, with window.json (the flash rush) beside it. */
  cpuProfDir: string | null;
};

export const USAGE = `usage: npm run bench:orders -- [--quantity Q] [--limit L] [--users U] [--concurrency C] [--seconds S] [--out DIR]
  --quantity     units in the flash sale, 1..200000 (default 5000)
  --limit        units per buyer, 1..100 (default 5)
  --users        buyers, 1..20000 (default 2000); users × limit must be ≥ quantity
  --concurrency  requests in flight in every phase, 1..80 (default 64); at most --users
  --seconds      each timed phase (refusals, cart checkout, PostgreSQL and bare POST ceilings), 1..120 (default 10)
  --out          folder for the JSON summary and PNG charts (default artifacts/benchmarks)
  --cpu-prof     profile the server with node --cpu-prof into DIR, the flash rush marked in DIR/window.json
                 and the refusals in DIR/window-refusals.json
                 (summarize: tsx load-tests/fanout/profile-summary.ts DIR [--window window-refusals.json])`;

const int = (name: string, raw: string | undefined, def: number, min: number, max: number) => intFlag(name, raw, def, min, max, USAGE);

/** Throws with the usage text on any unknown flag, out-of-range value, or a sale the buyers cannot sell out. */
export function parseOptions(argv: string[]): Options | "help" {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      quantity: { type: "string" },
      limit: { type: "string" },
      users: { type: "string" },
      concurrency: { type: "string" },
      seconds: { type: "string" },
      out: { type: "string" },
      "cpu-prof": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help";
  const o: Options = {
    quantity: int("quantity", values.quantity, 5000, 1, 200_000),
    limit: int("limit", values.limit, 5, 1, 100),
    users: int("users", values.users, 2000, 1, 20_000),
    concurrency: int("concurrency", values.concurrency, 64, 1, 80),
    seconds: int("seconds", values.seconds, 10, 1, 120),
    gateUnits: 200_000,
    out: values.out ?? DEFAULT_OUT_DIR,
    cpuProfDir: values["cpu-prof"] ?? null,
  };
  if (o.concurrency > o.users) throw new Error(`--concurrency (${o.concurrency}) must be at most --users (${o.users}): each cart buyer checks out alone\n${USAGE}`);
  if (o.users * o.limit < o.quantity) throw new Error(`--users × --limit (${o.users * o.limit}) must be at least --quantity (${o.quantity})\n${USAGE}`);
  return o;
}
