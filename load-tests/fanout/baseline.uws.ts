// Bare uWS.js fan-out: viewers on /ws subscribe to one topic; a sender's (/ws?sender=1) comment is stamped and published once.
import uWS from "uWebSockets.js";

type Conn = { sender: boolean; id: number };

const TOPIC = "room";
const port = Number(process.env.PORT ?? 0);
const decoder = new TextDecoder();
let seq = 0;
let nextId = 0;

const app = uWS.App();
app.get("/readyz", (res) => void res.end("ok"));
app.ws<Conn>("/ws", {
  compression: uWS.DISABLED,
  maxPayloadLength: 16 * 1024,
  maxBackpressure: 64 * 1024 * 1024,
  idleTimeout: 120,
  upgrade: (res, req, context) => {
    res.upgrade<Conn>(
      { sender: req.getQuery("sender") === "1", id: ++nextId },
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
    const userId = `u${ws.getUserData().id}`;
    const comment = { id: `c${seq}`, userId, username: userId, content, timestamp: Date.now(), role: "viewer" };
    app.publish(TOPIC, JSON.stringify({ type: "comment", seq, comment }), false);
  },
});

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
