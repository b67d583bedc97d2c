// Plain socket.io fan-out on node:http, websocket transport only: a sender's comment is stamped and emitted to one room.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server } from "socket.io";

const ROOM = "room";
const port = Number(process.env.PORT ?? 0);
let seq = 0;

const http = createServer((req, res) => {
  res.writeHead(req.url === "/readyz" ? 200 : 404).end();
});
const io = new Server(http, { transports: ["websocket"], serveClient: false, maxHttpBufferSize: 16 * 1024 });

io.on("connection", (socket) => {
  if (socket.handshake.query.role !== "sender") {
    void socket.join(ROOM);
    return;
  }
  const userId = `u${socket.id}`;
  socket.on("comment", (msg: { comment?: { content?: unknown } } | undefined) => {
    const content = msg?.comment?.content;
    if (typeof content !== "string") return;
    seq += 1;
    const comment = { id: `c${seq}`, userId, username: userId, content, timestamp: Date.now(), role: "viewer" };
    io.to(ROOM).emit("comment", { type: "comment", seq, comment });
  });
});

http.listen(port, "127.0.0.1", () => {
  console.log(JSON.stringify({ msg: "listening", port: (http.address() as AddressInfo).port }));
});

process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
process.on("SIGTERM", () => process.exit(0));
