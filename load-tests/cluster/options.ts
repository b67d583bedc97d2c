import { parseArgs } from "node:util";
import { DEFAULT_OUT_DIR } from "../shared/charts.js";
import { intFlag } from "../shared/flags.js";

export const SCENARIOS = ["one-room", "many-rooms"] as const;
export type Scenario = (typeof SCENARIOS)[number];

export type Options = {
  scenarios: Scenario[];
  /** one-room: viewers in the room, spread evenly over the nodes, and comments per second into it. */
  viewers: number;
  rate: number;
  /** many-rooms: rooms, viewers per room (spread over the nodes) and comments per second per room. */
  rooms: number;
  roomViewers: number;
  roomRate: number;
  seconds: number;
  warmupSec: number;
  workers: number;
  out: string;
};

export const USAGE = `usage: npm run bench:cluster -- [--scenarios one-room,many-rooms] [--viewers N] [--rate R] [--rooms K] [--room-viewers M] [--room-rate r] [--seconds S]
  --scenarios     comma-separated (default one-room,many-rooms)
  --viewers       one-room: viewers, 3..20000 (default 1200)
  --rate          one-room: comments per second into the room, 1..5000 (default 100)
  --rooms         many-rooms: rooms, 1..2000 (default 300)
  --room-viewers  many-rooms: viewers per room, 3..300 (default 30)
  --room-rate     many-rooms: comments per second per room, 1..50 (default 2)
  --seconds       measured phase, 1..120 (default 10)
  --warmup        seconds sent before measuring, 0..30 (default 3)
  --workers       driver processes holding the viewers, 1..8 (default 2)
  --out           folder for the JSON summary (default artifacts/benchmarks)`;

const int = (name: string, raw: string | undefined, def: number, min: number, max: number) => intFlag(name, raw, def, min, max, USAGE);

/** Throws with the usage text on any unknown flag or out-of-range value. */
export function parseOptions(argv: string[]): Options | "help" {
  const { values } = parseArgs({
    args: argv,
    options: {
      scenarios: { type: "string" },
      viewers: { type: "string" },
      rate: { type: "string" },
      rooms: { type: "string" },
      "room-viewers": { type: "string" },
      "room-rate": { type: "string" },
      seconds: { type: "string" },
      warmup: { type: "string" },
      workers: { type: "string" },
      out: { type: "string" },
      help: { type: "boolean" },
    },
    strict: true,
  });
  if (values.help) return "help";
  const scenarios = (values.scenarios ?? SCENARIOS.join(",")).split(",").map((s) => s.trim());
  for (const s of scenarios) if (!(SCENARIOS as readonly string[]).includes(s)) throw new Error(`unknown scenario ${s}\n${USAGE}`);
  return {
    scenarios: scenarios as Scenario[],
    viewers: int("viewers", values.viewers, 1200, 3, 20_000),
    rate: int("rate", values.rate, 100, 1, 5000),
    rooms: int("rooms", values.rooms, 300, 1, 2000),
    roomViewers: int("room-viewers", values["room-viewers"], 30, 3, 300),
    roomRate: int("room-rate", values["room-rate"], 2, 1, 50),
    seconds: int("seconds", values.seconds, 10, 1, 120),
    warmupSec: int("warmup", values.warmup, 3, 0, 30),
    workers: int("workers", values.workers, 2, 1, 8),
    out: values.out ?? DEFAULT_OUT_DIR,
  };
}
