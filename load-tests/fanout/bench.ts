// Fan-out benchmark: one room, N viewers, R comments/s; runs each target server in turn and compares them.
import { mkdirSync, rmSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import type { ConnectReply, MarkReply, ReportReply } from "./driver-protocol.js";
import { DriverPool } from "./driver-pool.js";
import { writeBenchOutputs } from "../shared/charts.js";
import { monotonicUs, writeProfileWindow } from "../shared/cpu-profile.js";
import { fanoutCharts } from "./charts.js";
import { parseOptions, USAGE, type Options } from "./options.js";
import { comparisonTable, medianOf, percentile, ratioLines, ratios, summary, targetTable, type Measured, type Results } from "./report.js";
import { sendAtRate } from "./senders.js";
import { children, cpuSeconds, hostBusy, rssBytes, startServer } from "./server-process.js";
import { wallMs } from "./stamp.js";
import { makeTarget, tempDirs, type Target } from "./targets.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const DRAIN_MS = 15_000;
/** How long a driver worker may take to answer: one swamped by frames reads its IPC late, and its counts still hold. */
const DRIVER_REPLY_MS = 60_000;
const SETTLE_MS = 1000;

const log = (msg: string) => process.stderr.write(`${msg}\n`);
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const connectBudgetMs = (o: Options) => 30_000 + o.viewers * 5;

function mergeCodes(parts: Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of parts) for (const [k, v] of Object.entries(p)) out[k] = (out[k] ?? 0) + v;
  return out;
}

/** Polls the workers until every expected event arrived, nothing arrived for 2 s, or DRAIN_MS passed. */
async function drain(pool: DriverPool, expected: number): Promise<number> {
  const start = Date.now();
  let last = -1;
  let lastChange = start;
  while (Date.now() - start < DRAIN_MS) {
    const events = sum((await pool.all<MarkReply>({ cmd: "mark" }, DRIVER_REPLY_MS)).map((m) => m.events));
    if (events >= expected) break;
    if (events !== last) [last, lastChange] = [events, Date.now()];
    else if (Date.now() - lastChange >= 2000) break;
    await sleep(250);
  }
  return (Date.now() - start) / 1000;
}

/** profDir: where `node --cpu-prof` writes this server's profile, with window.json (the measured phase) beside it. */
async function runTarget(target: Target, o: Options, profDir: string | null): Promise<Measured> {
  const tag = `[${target.name}]`;
  log(`${tag} starting ${target.file} (host CPU ${(await hostBusy()).toFixed(0)}% busy over 1 s, ${availableParallelism()} cores)`);
  if (profDir) mkdirSync(profDir, { recursive: true });
  const nodeArgs = profDir ? ["--cpu-prof", "--cpu-prof-dir", profDir] : [];
  const server = await startServer(ROOT, target.file, target.env, target.readyMs, nodeArgs);
  let window: { fromUs: number; toUs: number } | null = null;
  const pool = DriverPool.start(o.workers, ROOT);
  let room: Awaited<ReturnType<Target["open"]>> | undefined;
  try {
    room = await target.open(server.base, o.senders);
    await sleep(300);
    const rssBefore = rssBytes(server.pid);

    const share = Math.ceil(o.viewers / o.workers);
    const sampleEvery = Math.max(50, Math.ceil(o.viewers / 100));
    const budget = connectBudgetMs(o);
    const t = Date.now();
    const replies = await Promise.all(
      pool.workers.map((_, i) => {
        const firstIndex = i * share;
        const count = Math.max(0, Math.min(share, o.viewers - firstIndex));
        const cmd = { cmd: "connect", client: room!.client, url: room!.viewerUrl, count, firstIndex, sampleEvery, timeoutMs: budget } as const;
        return pool.request<ConnectReply>(i, cmd, budget + 15_000);
      }),
    );
    const connectSec = (Date.now() - t) / 1000;
    const connected = sum(replies.map((r) => r.open));
    log(`${tag} ${connected}/${o.viewers} viewers connected in ${connectSec.toFixed(1)} s`);
    if (connected === 0) throw new Error(`no viewer could connect: ${replies.find((r) => r.firstError)?.firstError}`);
    await sleep(SETTLE_MS);
    const rssAfter = rssBytes(server.pid);

    log(`${tag} warm-up ${o.warmupSec} s, then measuring ${o.seconds} s at ${o.rate} comments/s`);
    const sending = sendAtRate(room.senders, o.rate, (o.warmupSec + o.seconds) * 1000 + 5000);
    await sleep(o.warmupSec * 1000);
    const [t0, sent0, cpu0, mono0, load] = [wallMs(), sending.sent(), cpuSeconds(server.pid), monotonicUs(), loadavg()];
    const [m0] = await Promise.all([pool.all<MarkReply>({ cmd: "mark" }, DRIVER_REPLY_MS), target.probe?.(server.base)]);
    await sleep(Math.max(0, t0 + o.seconds * 1000 - wallMs()));
    sending.stop();
    const [t1, sent, cpu1] = [wallMs(), sending.sent(), cpuSeconds(server.pid)];
    window = { fromUs: mono0, toUs: monotonicUs() };
    const [m1, probed] = await Promise.all([pool.all<MarkReply>({ cmd: "mark" }, DRIVER_REPLY_MS), target.probe?.(server.base)]);

    const expected = sent * connected;
    log(`${tag} sent ${sent}; draining`);
    const drainSec = await drain(pool, expected);
    const reports = await pool.all<ReportReply>({ cmd: "report", from: t0, to: t1 }, DRIVER_REPLY_MS);
    const rssEnd = rssBytes(server.pid);

    const rate = (pick: (m: MarkReply) => number) =>
      sum(m0.map((a, i) => (pick(m1[i]!) - pick(a)) / ((m1[i]!.at - a.at) / 1000)));
    const lat = reports.flatMap((r) => r.latencies).sort((a, b) => a - b);
    const delivered = sum(reports.map((r) => r.events));
    const windowSec = (t1 - t0) / 1000;
    const senderErrors: Record<string, number> = {};
    for (const s of room.senders) for (const [k, v] of s.errors) senderErrors[k] = (senderErrors[k] ?? 0) + v;
    return {
      title: target.title,
      viewers: o.viewers,
      connected,
      connectFailed: sum(replies.map((r) => r.failed)),
      connectError: replies.find((r) => r.firstError)?.firstError ?? null,
      connectSec,
      sent,
      sentMeasured: sent - sent0,
      eventsPerSec: rate((m) => m.events),
      framesPerSec: rate((m) => m.frames),
      p50Ms: percentile(lat, 50),
      p99Ms: percentile(lat, 99),
      maxMs: lat.length > 0 ? lat[lat.length - 1]! : null,
      samples: lat.length,
      sampledViewers: sum(reports.map((r) => r.sampledViewers)),
      expected,
      delivered,
      lossPct: expected > 0 ? ((expected - delivered) / expected) * 100 : 0,
      drainSec,
      rssBeforeBytes: rssBefore,
      rssAfterBytes: rssAfter,
      rssEndBytes: rssEnd,
      rssPerConnBytes: rssAfter >= rssBefore ? (rssAfter - rssBefore) / connected : NaN,
      serverCpuPct: ((cpu1 - cpu0) / windowSec) * 100,
      loadAvg: load.map((l) => Number(l.toFixed(2))),
      driverCpuPct: m0.map((a, i) => (m1[i]!.cpuMs - a.cpuMs) / 10 / windowSec),
      closed: sum(reports.map((r) => r.closed)),
      closeCodes: mergeCodes(reports.map((r) => r.closeCodes)),
      senderErrors,
      serverWarnings: Object.fromEntries(server.warnings),
      serverMetrics: probed ?? {},
    };
  } finally {
    for (const s of room?.senders ?? []) s.close();
    await server.stop();
    if (profDir && window) writeProfileWindow(profDir, window);
    await pool.close();
    await target.cleanup();
    log(`${tag} torn down`);
  }
}

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(process.argv.slice(2));
  } catch (err) {
    log(err instanceof Error ? err.message : String(err));
    process.exit(2);
  }
  if (parsed === "help") {
    log(USAGE);
    return;
  }
  const o = parsed;
  const perTarget = 90_000 + connectBudgetMs(o) + 15_000 + SETTLE_MS + (o.warmupSec + o.seconds) * 1000 + DRAIN_MS + 3 * DRIVER_REPLY_MS;
  const deadlineMs = perTarget * o.targets.length * o.rounds;
  setTimeout(() => {
    log(`fanout bench: overall deadline of ${Math.round(deadlineMs / 1000)} s passed; aborting`);
    process.exit(3);
  }, deadlineMs).unref();

  log(`fanout bench: ${o.viewers} viewers, ${o.rate} comments/s, ${o.seconds} s measured, targets ${o.targets.join(",")}, ${o.rounds} round(s)`);
  const rounds: Results[] = [];
  for (let round = 1; round <= o.rounds; round++) {
    const results: Results = {};
    const order = round % 2 === 0 ? [...o.targets].reverse() : o.targets;
    if (o.rounds > 1) log(`round ${round}/${o.rounds}: ${order.join(",")}`);
    for (const name of order) {
      const target = await makeTarget(name);
      const profDir = o.cpuProfDir ? `${o.cpuProfDir}/${name}-r${round}` : null;
      try {
        results[name] = await runTarget(target, o, profDir);
      } catch (err) {
        results[name] = { title: target.title, error: err instanceof Error ? err.message : String(err) };
      }
      console.log(`${targetTable(name, results[name])}\n`);
    }
    const inOrder: Results = Object.fromEntries(o.targets.map((n) => [n, results[n]]));
    console.log(`${o.rounds > 1 ? `round ${round}\n` : ""}${comparisonTable(inOrder)}\n\nratios\n${ratioLines(ratios(inOrder), o.viewers)}\n`);
    rounds.push(inOrder);
  }
  const perRound = rounds.map((rs) => ({ results: Object.fromEntries(Object.entries(rs).map(([k, v]) => [k, summary(v)])), ratios: ratios(rs) }));
  const r = medianOf(perRound.map((p) => p.ratios)) as Record<string, number | null>;
  if (o.rounds > 1) console.log(`medians of ${o.rounds} rounds\n${ratioLines(r, o.viewers)}\n`);
  const json = JSON.stringify({
    bench: "fanout",
    viewers: o.viewers,
    rate: o.rate,
    seconds: o.seconds,
    results: medianOf(perRound.map((p) => p.results)),
    ratios: r,
    ...(o.rounds > 1 ? { rounds: perRound } : {}),
  });
  for (const path of writeBenchOutputs(o.out, "fanout", json, fanoutCharts(rounds[0]!, o))) log(`wrote ${path}`);
  console.log(json);
}

process.on("exit", () => {
  for (const child of children) child.kill("SIGKILL");
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(130));

main().then(
  () => process.exit(0),
  (err: unknown) => {
    log(`fanout bench failed: ${err instanceof Error ? err.stack : String(err)}`);
    process.exit(1);
  },
);
