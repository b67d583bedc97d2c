// Orders benchmark: flash buy-now on one hot SKU, refusals once sold out, and a cart checkout on a hot SKU, beside the
// Redis gate's, PostgreSQL's and the request stack's own ceilings (a bare authenticated POST, a refusal
// without the gate, uWS alone).
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { writeBenchOutputs } from "../shared/charts.js";
import { monotonicUs, writeProfileWindow } from "../shared/cpu-profile.js";
import { log, message, runGuard } from "../shared/run-guard.js";
import { ordersCharts } from "./charts.js";
import { createTestDatabase } from "../../test/support/databases.js";
import { children, hostBusy, startServer } from "../fanout/server-process.js";
import { BUILT_SERVER } from "../../scripts/build-server.js";
import { stackCeilings } from "./bare-post.js";
import { refusalRush, retryUnresolved, rush } from "./buy-rush.js";
import { cartRush } from "./cart-rush.js";
import { httpClient } from "./http-client.js";
import { parseOptions, USAGE, type Options } from "./options.js";
import { postgresCeiling } from "./postgres-ceiling.js";
import { rawHttp } from "./raw-http.js";
import { gateCeiling } from "./redis-ceiling.js";
import { deleteKeys, gateAgrees, gateState } from "./redis-state.js";
import { summary, tables, violations, type Results } from "./report.js";
import { setUpSale } from "./sale-setup.js";
import { readTruth } from "./truth.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const REDIS_URL = "redis://127.0.0.1:6379";
const RUSH_CAP_MS = 180_000;
const GATE_CAP_MS = 60_000;
/** Takes whose outcome a crash or a failed write left open are settled by the server's reconcile within this (FLASH_TAKE_STALE_MS and its period). */
const SETTLE_MS = 20_000;

const guard = runGuard("orders");

const budgetMs = (o: Options) => 120_000 + o.users * 30 + RUSH_CAP_MS + GATE_CAP_MS + SETTLE_MS + o.seconds * 4000 + 90_000;
const load1 = () => loadavg()[0]!;

async function run(o: Options): Promise<Results> {
  const { signal } = guard;
  const loadStart = load1();
  const prefix = `bench-orders-${randomBytes(4).toString("hex")}`;
  const dataDir = mkdtempSync(join(tmpdir(), "pinlive-bench-orders-"));
  guard.undo(() => rmSync(dataDir, { recursive: true, force: true }));
  const database = await createTestDatabase("pinlive_bench");
  guard.undo(() => database.drop());
  guard.undo(() => deleteKeys(REDIS_URL, prefix));

  log(`starting ${BUILT_SERVER} (host CPU ${(await hostBusy()).toFixed(0)}% busy over 1 s, load average ${loadStart.toFixed(1)}, ${availableParallelism()} cores)`);
  // Every virtual buyer comes from this machine's one address: no per-address or per-user order limits.
  const unlimited = { RATE_LIMIT_ORDERS_PER_IP_PER_MIN: "1000000", RATE_LIMIT_ORDERS_PER_USER_PER_MIN: "1000000", RATE_LIMIT_LOGIN_PER_IP_PER_MIN: "1000000", RATE_LIMIT_LOGIN_PER_USER_PER_MIN: "1000000" };
  // The cart checkout's buyers keep their orders unpaid: no cap on unpaid orders (placing still counts them).
  const holds = { ORDER_MAX_UNPAID_PER_USER: "1000", ORDER_MAX_UNPAID_UNITS_PER_SKU: "100000" };
  const env = { NODE_ENV: "development", INGEST_ENABLED: "false", LOG_LEVEL: "warn", REDIS_URL, REDIS_PREFIX: prefix, DATABASE_URL: database.url, DATA_DIR: dataDir, ...unlimited, ...holds };
  if (o.cpuProfDir) mkdirSync(o.cpuProfDir, { recursive: true });
  const server = await startServer(ROOT, BUILT_SERVER, env, 90_000, o.cpuProfDir ? ["--cpu-prof", "--cpu-prof-dir", o.cpuProfDir] : []);
  guard.undo(() => server.stop());
  const setup = httpClient(server.base, 16);
  guard.undo(() => setup.close());
  const http = rawHttp(server.base, o.concurrency);
  guard.undo(() => http.close());

  const sale = await setUpSale(setup, database.url, o, log);
  signal.throwIfAborted();
  // Like the ceilings' first second, the server's first orders are its warm-up: not measured.
  log(`warm-up: ${o.concurrency} virtual buyers on a ${sale.warmUp.quantity}-unit sale of another SKU (not measured)`);
  const warmed = await rush(http, { ...sale, ...sale.warmUp }, { concurrency: o.concurrency, serverPid: server.pid, capMs: RUSH_CAP_MS, signal });
  if (!warmed.soldOutAll) log("warm-up: the sale did NOT sell out");
  signal.throwIfAborted();
  log(`rush: ${o.concurrency} virtual buyers until sold out (at most ${RUSH_CAP_MS / 1000} s)`);
  const rushFromUs = monotonicUs();
  const rushed = await rush(http, sale, { concurrency: o.concurrency, serverPid: server.pid, capMs: RUSH_CAP_MS, signal });
  if (o.cpuProfDir) writeProfileWindow(o.cpuProfDir, { fromUs: rushFromUs, toUs: monotonicUs() });
  log(`rush: ${rushed.orders} orders, ${rushed.attempts} requests in ${rushed.durationSec.toFixed(1)} s`);
  signal.throwIfAborted();
  if (!rushed.soldOutAll) log("rush: the sale did NOT sell out");
  log(`refusals: ${o.concurrency} buyers keep tapping the sold-out sale for ${o.seconds} s`);
  const refusalsFromUs = monotonicUs();
  const refusals = await refusalRush(http, sale, { concurrency: o.concurrency, seconds: o.seconds, serverPid: server.pid, signal });
  if (o.cpuProfDir) writeProfileWindow(o.cpuProfDir, { fromUs: refusalsFromUs, toUs: monotonicUs() }, "window-refusals.json");
  signal.throwIfAborted();
  log(`cart checkout: ${Math.min(o.concurrency, o.users)} buyers on one hot SKU for ${o.seconds} s`);
  const cart = await cartRush(http, sale, { concurrency: o.concurrency, seconds: o.seconds, serverPid: server.pid, signal });
  signal.throwIfAborted();
  log(`asking again the ${rushed.unresolved.length} requests whose answers were lost`);
  const retried = await retryUnresolved(http, sale, rushed.unresolved);
  // Every take settled (or given back) before the gate is compared with PostgreSQL.
  let gate = await gateState(REDIS_URL, prefix, sale.saleId);
  for (const until = Date.now() + SETTLE_MS; gate && gate.pending > 0 && Date.now() < until; ) {
    await sleep(500);
    gate = await gateState(REDIS_URL, prefix, sale.saleId);
  }
  const answered = new Set([...rushed.answered.values(), ...retried.returned.values()]);
  const truth = await readTruth(database.url, sale, { ids: answered });
  const serverWarnings = Object.fromEntries(server.warnings);
  if (!children.size) log(`the server exited during the run; its last lines:\n  ${server.tail.slice(-15).join("\n  ")}`);
  await server.stop();
  http.close();
  setup.close();

  log(`Redis ceiling: the gate script on ${o.gateUnits} units until sold out`);
  signal.throwIfAborted();
  const gateCeilingResult = await gateCeiling(REDIS_URL, prefix, { units: o.gateUnits, limit: o.limit, concurrency: o.concurrency, capMs: GATE_CAP_MS, signal }).catch(
    (err: unknown) => ({ error: message(err) }),
  );
  log(`PostgreSQL ceiling: ${o.seconds} s`);
  signal.throwIfAborted();
  const pg = await postgresCeiling(database.url, sale.ceilingSkuId, { ...o, signal }).catch((err: unknown) => ({ error: message(err) }));
  log(`the request stack's ceilings (bare POST, refusal without the gate, uWS alone): ${o.seconds} s each`);
  signal.throwIfAborted();
  const stack = await stackCeilings(ROOT, env, sale, { concurrency: o.concurrency, seconds: o.seconds, signal }).catch((err: unknown) => ({ error: message(err) }));
  signal.throwIfAborted();
  return {
    options: o,
    rush: rushed,
    refusals,
    cart,
    retried: { asked: rushed.unresolved.length, returned: retried.returned.size, stillUnresolved: retried.stillUnresolved },
    truth,
    gate: { left: gate?.left ?? null, pending: gate?.pending ?? 0, agrees: gateAgrees(gate, truth) },
    serverWarnings,
    gateCeiling: gateCeilingResult,
    pg,
    stack,
    loadAvg: { start: loadStart, end: load1() },
  };
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
  const json = summary(results);
  for (const path of writeBenchOutputs(o.out, "orders", json, ordersCharts(results))) log(`wrote ${path}`);
  console.log(json);
  const bad = violations(results);
  if (bad.length > 0) {
    log(`orders bench: FAILED: ${bad.join("; ")}`);
    process.exitCode = 1;
  }
}

guard.run(main);
