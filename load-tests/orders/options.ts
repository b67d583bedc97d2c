import { parseArgs } from "node:util";
import { intFlag } from "../shared/flags.js";

export type Options = {
  /** Units on sale (the SKU's stock too). */
  quantity: number;
  /** Units per buyer. */
  limit: number;
  users: number;
  concurrency: number;
  /** The PostgreSQL ceiling's measured phase. */
  seconds: number;
  /** The Redis ceiling's units: large, so its rate is not start-up noise. */
  gateUnits: number;
};

export const USAGE = `usage: npm run bench:orders -- [--quantity Q] [--limit L] [--users U] [--concurrency C] [--seconds S]
  --quantity     units in the flash sale, 1..200000 (default 5000)
  --limit        units per buyer, 1..100 (default 5)
  --users        buyers, 1..20000 (default 2000); users × limit must be ≥ quantity
  --concurrency  requests in flight in every phase, 1..80 (default 64)
  --seconds      the PostgreSQL ceiling's duration, 1..120 (default 10)`;

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
  };
  if (o.users * o.limit < o.quantity) throw new Error(`--users × --limit (${o.users * o.limit}) must be at least --quantity (${o.quantity})\n${USAGE}`);
  return o;
}
