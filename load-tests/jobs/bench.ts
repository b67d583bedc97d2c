// Jobs benchmark: delayed jobs at a fixed rate through our BullMQ wrapper, beside bare BullMQ and plain timers.
import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { writeBenchOutputs } from "../shared/charts.js";
import { log, message, runGuard } from "../shared/run-guard.js";
import { redisKeys } from "../../src/redis/keys.js";
import { jobsCharts } from "./charts.js";
import { cpuSeconds, hostBusy } from "../fanout/server-process.js";
import { wallMs } from "../fanout/stamp.js";
import { JobNode } from "./child-pool.js";
import { parseOptions, USAGE, type Options } from "./options.js";
import { plannedJobs, slotMs } from "./pacing.js";
import type { CountReply, FiredReply, Mode, ProduceReply } from "./protocol.js";
import { deleteKeys, queueCounts, redisServer, type RedisServer } from "./redis-state.js";
import { comparisonTable, p99TargetMs, ratioLines, ratios, summary, targetTable, TITLES, verdicts, type Measured, type Results } from "./report.js";
import { tally, violations } from "./tally.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** Workers get this long after start before the first add, so their blocking fetch is under way. */
const SETTLE_MS = 1000;
/** The drain ends this long after the last due time if jobs are still missing... */
const DRAIN_MS = 15_000;
/** ...or once nothing more has run for this long. */
const QUIET_MS = 3000;
/** Kept waiting after the last job ran, so a late duplicate still counts. */
const AFTER_MS = 1000;

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

const guard = runGuard("jobs");

const perTargetMs = (o: Options) => 60_000 + o.seconds * 1000 + o.delayMs + DRAIN_MS + 30_000;

/** BullMQ's key prefix of a target: ours is the server's own (`{<prefix>:jobs}`); every prefix starts `{<run>:`. */
const bullPrefix = (run: string, mode: Mode) => (mode === "pinlive" ? redisKeys(run).jobs : `{${run}:bare}`);

/** Waits until every scheduled job ran, nothing ran for QUIET_MS past the last due time, or DRAIN_MS past it. */
async function drain(nodes: JobNode[], expected: number, lastDue: number): Promise<number> {
  let [last, lastChange] = [-1, wallMs()];
  for (;;) {
    guard.signal.throwIfAborted();
    const fired = sum((await Promise.all(nodes.map((n) => n.request<CountReply>({ cmd: "count" }, 10_000)))).map((c) => c.fired));
    const now = wallMs();
    if (fired !== last) [last, lastChange] = [fired, now];
    if (fired >= expected) break;
    if (now > lastDue && (now - lastDue > DRAIN_MS || now - lastChange > QUIET_MS)) break;
    await sleep(250);
  }
  const sec = Math.max(0, wallMs() - lastDue) / 1000;
  await sleep(AFTER_MS);
  return sec;
}

async function runTarget(mode: Mode, o: Options, run: string, redis: number | null): Promise<Measured> {
  const tag = `[${mode}]`;
  const hostBusyPct = await hostBusy();
  log(`${tag} host ${hostBusyPct.toFixed(0)}% busy over 1 s; starting ${mode === "timers" ? "one process" : `a producer and ${o.workers} worker processes`}`);
  const prefix = bullPrefix(run, mode);
  const base = { mode, redisUrl: o.redisUrl, prefix, concurrency: o.concurrency, lockMs: o.lockMs };
  const producer = JobNode.start(`${mode}-producer`, ROOT);
  const workers = mode === "timers" ? [] : Array.from({ length: o.workers }, (_, i) => JobNode.start(`${mode}-worker-${i + 1}`, ROOT));
  const nodes = [producer, ...workers];
  const stop = () => Promise.all(nodes.map((n) => n.stop()));
  guard.undo(stop);
  try {
    await Promise.all([
      producer.request({ cmd: "start", role: "producer", nodeId: `bench-producer`, ...base }, 30_000),
      ...workers.map((w, i) => w.request({ cmd: "start", role: "worker", nodeId: `bench-worker-${i + 1}`, ...base }, 30_000)),
    ]);
    await sleep(SETTLE_MS);
    guard.signal.throwIfAborted();

    const cpu0 = nodes.map((n) => cpuSeconds(n.pid));
    const redis0 = redis === null ? NaN : cpuSeconds(redis);
    const w0 = wallMs();
    const t0 = Date.now() + 50;
    const schedule = { rate: o.rate, seconds: o.seconds, delayMs: o.delayMs };
    log(`${tag} scheduling ${plannedJobs(schedule).toLocaleString("en-US")} jobs at ${o.rate}/s, each due ${o.delayMs} ms after its slot`);
    const produced = await producer.request<ProduceReply>({ cmd: "produce", t0, ...schedule }, o.seconds * 1000 + 60_000);
    const acked = produced.outcome.reduce((a, b) => a + (b === 1 ? 1 : 0), 0);
    const lastDue = t0 + o.delayMs + slotMs(schedule, plannedJobs(schedule) - 1);
    log(`${tag} ${acked} adds acknowledged; waiting for the last due time (+${((lastDue - wallMs()) / 1000).toFixed(1)} s) and the drain`);
    const drainSec = await drain(nodes, acked, lastDue);
    const windowSec = (wallMs() - w0) / 1000;
    const cpu = nodes.map((n, i) => ((cpuSeconds(n.pid) - cpu0[i]!) / windowSec) * 100);
    const redisPct = redis === null ? NaN : ((cpuSeconds(redis) - redis0) / windowSec) * 100;
    const fired = await Promise.all(nodes.map((n) => n.request<FiredReply>({ cmd: "report" }, 30_000)));
    const t = tally(produced, mode === "timers" ? fired : fired.slice(1), t0, o.delayMs);
    if (mode !== "timers" && fired[0]!.seq.length > 0) throw new Error("the producer ran jobs");
    await stop();
    const leftInQueue = mode === "timers" ? null : await queueCounts(o.redisUrl, prefix);
    const warnings: Record<string, number> = {};
    for (const n of nodes) for (const [k, v] of n.warnings) warnings[`${n.name} ${k}`] = v;
    return {
      title: TITLES[mode],
      tally: t,
      cpu: { producerPct: cpu[0]!, workersPct: cpu.slice(1), redisPct },
      hostBusyPct,
      drainSec,
      leftInQueue,
      warnings,
    };
  } finally {
    await stop();
    await deleteKeys(o.redisUrl, `${prefix}*`);
    log(`${tag} torn down`);
  }
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
  const budget = perTargetMs(o) * o.targets.length + 30_000;
  guard.deadline(budget);
  log(
    `jobs bench: ${o.rate} jobs/s for ${o.seconds} s, due ${o.delayMs} ms ahead, ${o.workers} workers × ${o.concurrency} concurrency, ` +
      `targets ${o.targets.join(",")} (${availableParallelism()} cores)`,
  );

  const run = `bench-jobs-${randomBytes(4).toString("hex")}`;
  guard.undo(() => deleteKeys(o.redisUrl, `{${run}:*`));
  let server: RedisServer;
  try {
    server = await redisServer(o.redisUrl);
  } catch (err) {
    throw new Error(`Redis at ${o.redisUrl} does not answer: ${message(err)}`);
  }
  log(`Redis ${server.version} at ${o.redisUrl}, hz ${server.hz}${server.pid === null ? "" : `, pid ${server.pid}`}`);
  const results: Results = {};
  for (const mode of o.targets) {
    try {
      results[mode] = await runTarget(mode, o, run, server.pid);
    } catch (err) {
      if (guard.signal.aborted) throw err; // the abort under way exits
      results[mode] = { title: TITLES[mode], error: message(err) };
    }
    console.log(`${targetTable(mode, results[mode], o)}\n`);
  }
  await guard.cleanUp();
  console.log(`${comparisonTable(results)}\n\n${ratioLines(results, o, server.hz)}\n`);
  const per = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, summary(k as Mode, v)]));
  const targets = verdicts(results, o, server.hz);
  const json = JSON.stringify({
      bench: "jobs",
      rate: o.rate,
      seconds: o.seconds,
      delayMs: o.delayMs,
      workers: o.workers,
      concurrency: o.concurrency,
      redis: { version: server.version, hz: server.hz },
      results: per,
      ratios: ratios(results),
      p99TargetMs: p99TargetMs(server.hz),
      targetsMet: targets.every((v) => v.met === true),
    });
  for (const path of writeBenchOutputs(o.out, "jobs", json, jobsCharts(results, o, server.hz))) log(`wrote ${path}`);
  console.log(json);
  const ours = results.pinlive;
  if (ours && ("error" in ours || violations(ours.tally).length > 0)) {
    log(`jobs bench: FAILED: ${"error" in ours ? ours.error : violations(ours.tally).join("; ")}`);
    process.exitCode = 1;
  }
}

guard.run(main);
