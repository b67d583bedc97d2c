// Bare uWS.js fan-out: viewers on /ws subscribe to one topic; a sender's (/ws?sender=1) comment is stamped once.
// BATCH_MS=0: published as it arrives, one frame per comment. BATCH_MS>0: gathered for one tick and published as one
// `batch` frame of the hub's shape (`batchFrame` in src/realtime/hub.ts), the floor for the hub's batch mode.
import { randomBytes, randomUUID } from "node:crypto";
import { monitorEventLoopDelay } from "node:perf_hooks";
import uWS from "uWebSockets.js";
import { newCommentId } from "../../src/realtime/event-ids.js";
import { startTicker } from "../../src/realtime/ticker.js";

/** userId and username shaped like the hub's (a UUID, the bench's nicknames), so frames weigh the same. */
type Conn = { sender: boolean; userId: string; username: string };

const TOPIC = "room";
const port = Number(process.env.PORT ?? 0);
const batchMs = Number(process.env.BATCH_MS ?? 0);
const epoch = randomBytes(8).toString("hex");
const decoder = new TextDecoder();
let seq = 0;
let nextId = 0;
/** The tick's event frames, each serialized once at arrival. */
let gathered: string[] = [];

// Event-loop lag as prom-client reports it (10 ms resolution, reset by every scrape), so the bench reads both alike.
const lag = monitorEventLoopDelay({ resolution: 10 });
lag.enable();
const metrics = () => {
  const text = `nodejs_eventloop_lag_p99_seconds ${lag.percentile(99) / 1e9}\nnodejs_eventloop_lag_max_seconds ${lag.max / 1e9}\n`;
  lag.reset();
  return text;
};

const app = uWS.App();
app.get("/readyz", (res) => void res.end("ok"));
app.get("/metrics", (res) => void res.end(metrics()));
app.ws<Conn>("/ws", {
  compression: uWS.DISABLED,
  maxPayloadLength: 16 * 1024,
  maxBackpressure: 64 * 1024 * 1024,
  idleTimeout: 120,
  upgrade: (res, req, context) => {
    res.upgrade<Conn>(
      { sender: req.getQuery("sender") === "1", userId: randomUUID(), username: `bench-sender-${++nextId}` },
      req.getHeader("sec-websocket-key"),
      req.getHeader("sec-websocket-protocol"),
      req.getHeader("sec-websocket-extensions"),
      context,
    );
  },
  open: (ws) => {
    if (!ws.getUserData().sender) ws.subscribe(TOPIC);
  },
  message: (ws, data) => {
    let content: unknown;
    try {
      content = (JSON.parse(decoder.decode(data)) as { comment?: { content?: unknown } }).comment?.content;
    } catch {
      return;
    }
    if (typeof content !== "string") return;
    seq += 1;
    const { userId, username } = ws.getUserData();
    const comment = { id: newCommentId(), userId, username, content, timestamp: Date.now(), role: "viewer" };
    if (batchMs > 0) gathered.push(JSON.stringify({ seq, type: "comment", comment }));
    else app.publish(TOPIC, JSON.stringify({ type: "comment", seq, comment }), false);
  },
});

if (batchMs > 0) {
  // The hub's tick clock, so both gather for the same ticks.
  startTicker(batchMs, () => {
    if (gathered.length === 0) return;
    const frame = `{"type":"batch","epoch":${JSON.stringify(epoch)},"events":[${gathered.join(",")}]}`;
    gathered = [];
    app.publish(TOPIC, frame, false);
  });
}

app.listen("127.0.0.1", port, (listenSocket) => {
  if (!listenSocket) {
    console.error(`cannot listen on 127.0.0.1:${port}`);
    process.exit(1);
  }
  console.log(JSON.stringify({ msg: "listening", port: uWS.us_socket_local_port(listenSocket) }));
});

process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
process.on("SIGTERM", () => process.exit(0));
