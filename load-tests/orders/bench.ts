// Orders benchmark: buy-now on one hot SKU in a live flash sale, beside the Redis gate's and PostgreSQL's own ceilings.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { log, message, runGuard } from "../shared/run-guard.js";
import { createTestDatabase } from "../../test/support/databases.js";
import { children, hostBusy, startServer } from "../fanout/server-process.js";
import { rush } from "./buy-rush.js";
import { httpClient } from "./http-client.js";
import { parseOptions, USAGE, type Options } from "./options.js";
import { postgresCeiling } from "./postgres-ceiling.js";
import { gateCeiling } from "./redis-ceiling.js";
import { deleteKeys, gateLeft } from "./redis-state.js";
import { summary, tables, violations, type Results } from "./report.js";
import { setUpSale } from "./sale-setup.js";
import { readTruth } from "./truth.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const REDIS_URL = "redis://127.0.0.1:6379";
const RUSH_CAP_MS = 180_000;
const GATE_CAP_MS = 60_000;


const guard = runGuard("orders");

const budgetMs = (o: Options) => 120_000 + o.users * 30 + RUSH_CAP_MS + GATE_CAP_MS + o.seconds * 1000 + 60_000;

async function run(o: Options): Promise<Results> {
  const { signal } = guard;
  const prefix = `bench-orders-${randomBytes(4).toString("hex")}`;
  const dataDir = mkdtempSync(join(tmpdir(), "pinlive-bench-orders-"));
  guard.undo(() => rmSync(dataDir, { recursive: true, force: true }));
  const database = await createTestDatabase("pinlive_bench");
  guard.undo(() => database.drop());
  guard.undo(() => deleteKeys(REDIS_URL, prefix));

  log(`starting src/main.ts (host CPU ${(await hostBusy()).toFixed(0)}% busy over 1 s, ${availableParallelism()} cores)`);
  const env = { NODE_ENV: "development", INGEST_ENABLED: "false", LOG_LEVEL: "warn", REDIS_URL, REDIS_PREFIX: prefix, DATABASE_URL: database.url, DATA_DIR: dataDir };
  const server = await startServer(ROOT, "src/main.ts", env, 90_000);
  guard.undo(() => server.stop());
  const http = httpClient(server.base, o.concurrency);
  guard.undo(() => http.close());

  const sale = await setUpSale(http, database.url, o, log);
  signal.throwIfAborted();
  log(`rush: ${o.concurrency} virtual buyers until sold out (at most ${RUSH_CAP_MS / 1000} s)`);
  const rushed = await rush(http, sale, { concurrency: o.concurrency, serverPid: server.pid, capMs: RUSH_CAP_MS, signal });
  log(`rush: ${rushed.orders} orders, ${rushed.attempts} requests in ${rushed.durationSec.toFixed(1)} s`);
  signal.throwIfAborted();
  if (!rushed.soldOutAll) log("rush: the sale did NOT sell out");
  const truth = await readTruth(database.url, sale.saleId, sale.skuId);
  const left = await gateLeft(REDIS_URL, prefix, sale.saleId);
  const serverWarnings = Object.fromEntries(server.warnings);
  if (!children.size) log(`the server exited during the run; its last lines:\n  ${server.tail.slice(-15).join("\n  ")}`);
  await server.stop();
  http.close();

  log(`Redis ceiling: the gate script on ${o.gateUnits} units until sold out`);
  signal.throwIfAborted();
  const gate = await gateCeiling(REDIS_URL, prefix, { units: o.gateUnits, limit: o.limit, concurrency: o.concurrency, capMs: GATE_CAP_MS, signal }).catch(
    (err: unknown) => ({ error: message(err) }),
  );
  log(`PostgreSQL ceiling: ${o.seconds} s`);
  signal.throwIfAborted();
  const pg = await postgresCeiling(database.url, sale.ceilingSkuId, { ...o, signal }).catch((err: unknown) => ({ error: message(err) }));
  signal.throwIfAborted();
  return { options: o, rush: rushed, truth, gateLeft: left, serverWarnings, gate, pg };
}

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(process.argv.slice(2));
  } catch (err) {
    log(message(err));
    process.exit(2);
  }
  if (parsed === "help") {
    log(USAGE);
    return;
  }
  const o = parsed;
  guard.deadline(budgetMs(o));
  log(`orders bench: ${o.quantity} units, ${o.limit} per buyer, ${o.users} buyers, ${o.concurrency} in flight, PostgreSQL ceiling ${o.seconds} s`);

  const results = await run(o);
  await guard.cleanUp();
  console.log(`${tables(results)}\n`);
  console.log(summary(results));
  const bad = violations(results);
  if (bad.length > 0) {
    log(`orders bench: FAILED: ${bad.join("; ")}`);
    process.exitCode = 1;
  }
}

guard.run(main);
