// Driver worker: holds a share of the viewers, counts frames and comment events, samples latency on a few viewers.
import WebSocket from "ws";
import { io, type Socket } from "socket.io-client";
import type { ConnectReply, Counters, DriverCommand, MarkReply, ReportReply } from "./driver-protocol.js";
import { sentAt, wallMs } from "./stamp.js";

const COMMENT = Buffer.from('{"type":"comment"');
const BATCH = Buffer.from('{"type":"batch"');
const TYPED = Buffer.from('{"type":"');
const SEQ_FIRST = Buffer.from('{"seq":');
const NEEDLE = Buffer.from('"type":"comment"');
const MAX_SAMPLES = 2_000_000;
const HANDSHAKE_MS = 15_000;

const counters: Counters = { frames: 0, events: 0, closed: 0, closeCodes: {} };
const stamps: number[] = [];
const latencies: number[] = [];
let samplesDropped = 0;
let sampledViewers = 0;
let closing = false;
const closers: (() => void)[] = [];

const startsWith = (buf: Buffer, prefix: Buffer) =>
  buf.length >= prefix.length && buf.compare(prefix, 0, prefix.length, 0, prefix.length) === 0;

/** A `{"seq":N,"type":"comment",...}` frame: the hub's stored event order. */
function seqFirstComment(buf: Buffer): boolean {
  if (!startsWith(buf, SEQ_FIRST)) return false;
  const comma = buf.indexOf(44, SEQ_FIRST.length);
  const at = comma + 1;
  return comma > 0 && at + NEEDLE.length <= buf.length && buf.compare(NEEDLE, 0, NEEDLE.length, at, at + NEEDLE.length) === 0;
}

function occurrences(buf: Buffer, needle: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(needle); i >= 0; i = buf.indexOf(needle, i + needle.length)) n++;
  return n;
}

function sample(content: unknown, now: number): void {
  const sent = sentAt(content);
  if (Number.isNaN(sent)) return;
  if (stamps.length >= MAX_SAMPLES) {
    samplesDropped++;
    return;
  }
  stamps.push(sent);
  latencies.push(now - sent);
}

type Parsed = { type?: unknown; comment?: { content?: unknown }; events?: Parsed[] };

/** Counts comment events in one parsed frame; records their latency when `now` is given. */
function parsedEvents(msg: Parsed, now: number | null): number {
  if (msg.type === "comment") {
    if (now !== null) sample(msg.comment?.content, now);
    return 1;
  }
  if (msg.type !== "batch" || !Array.isArray(msg.events)) return 0;
  let n = 0;
  for (const ev of msg.events) {
    if (ev.type !== "comment") continue;
    n++;
    if (now !== null) sample(ev.comment?.content, now);
  }
  return n;
}

function onWsFrame(buf: Buffer, sampled: boolean): void {
  counters.frames++;
  if (sampled) {
    const now = wallMs();
    try {
      counters.events += parsedEvents(JSON.parse(buf.toString("utf8")) as Parsed, now);
    } catch {
      // not JSON: a frame, not an event
    }
  } else if (startsWith(buf, COMMENT) || seqFirstComment(buf)) counters.events++;
  else if (startsWith(buf, BATCH)) counters.events += occurrences(buf, NEEDLE);
  else if (!startsWith(buf, TYPED) && !startsWith(buf, SEQ_FIRST)) {
    try {
      counters.events += parsedEvents(JSON.parse(buf.toString("utf8")) as Parsed, null);
    } catch {
      // not JSON
    }
  }
}

function onClose(code: number | string): void {
  if (closing) return;
  counters.closed++;
  counters.closeCodes[code] = (counters.closeCodes[code] ?? 0) + 1;
}

function openWs(url: string, sampled: boolean, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, skipUTF8Validation: true, handshakeTimeout: timeoutMs });
    let open = false;
    ws.on("open", () => {
      open = true;
      closers.push(() => ws.terminate());
      resolve();
    });
    ws.on("message", (data) => onWsFrame(data as Buffer, sampled));
    ws.on("error", (err) => {
      if (!open) reject(err);
    });
    ws.on("close", (code) => {
      if (open) onClose(code);
      else reject(new Error(`closed ${code} before open`));
    });
  });
}

function openSocketIo(url: string, sampled: boolean, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket: Socket = io(url, {
      transports: ["websocket"],
      forceNew: true,
      reconnection: false,
      timeout: timeoutMs,
      query: { role: "viewer" },
    });
    socket.io.on("open", () => socket.io.engine.on("packet", () => counters.frames++));
    socket.on("comment", (msg: Parsed) => {
      counters.events++;
      if (sampled) sample(msg.comment?.content, wallMs());
    });
    socket.once("connect", () => {
      closers.push(() => socket.disconnect());
      socket.on("disconnect", (reason) => onClose(reason));
      resolve();
    });
    socket.once("connect_error", (err) => {
      socket.close();
      reject(err);
    });
  });
}

async function connect(c: Extract<DriverCommand, { cmd: "connect" }>): Promise<ConnectReply> {
  const reply: ConnectReply = { open: 0, failed: 0, firstError: null };
  const deadline = Date.now() + c.timeoutMs;
  let next = 0;
  const lane = async () => {
    while (next < c.count && Date.now() < deadline) {
      const index = c.firstIndex + next++;
      const sampled = index % c.sampleEvery === 0;
      const opener = c.client === "ws" ? openWs : openSocketIo;
      try {
        await opener(c.url, sampled, Math.max(1000, Math.min(HANDSHAKE_MS, deadline - Date.now())));
        reply.open++;
        if (sampled) sampledViewers++;
      } catch (err) {
        reply.failed++;
        reply.firstError ??= String(err instanceof Error ? err.message : err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(64, c.count) }, lane));
  reply.failed += c.count - reply.open - reply.failed;
  return reply;
}

function mark(): MarkReply {
  const cpu = process.cpuUsage();
  return { ...counters, closeCodes: { ...counters.closeCodes }, at: wallMs(), cpuMs: (cpu.user + cpu.system) / 1000 };
}

function report(from: number, to: number): ReportReply {
  const picked: number[] = [];
  for (let i = 0; i < stamps.length; i++) {
    const s = stamps[i]!;
    if (s >= from && s < to) picked.push(latencies[i]!);
  }
  return { ...counters, latencies: picked, sampledViewers, samplesDropped };
}

process.on("disconnect", () => process.exit(0));
process.on("message", (msg: { id: number } & DriverCommand) => {
  const send = (payload: object) => process.send?.({ id: msg.id, ...payload });
  switch (msg.cmd) {
    case "connect":
      void connect(msg).then(send);
      break;
    case "mark":
      send(mark());
      break;
    case "report":
      send(report(msg.from, msg.to));
      break;
    case "close":
      closing = true;
      for (const close of closers) close();
      send({ closed: closers.length });
      setTimeout(() => process.exit(0), 200).unref();
      break;
  }
});
