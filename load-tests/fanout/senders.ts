import WebSocket from "ws";
import { io } from "socket.io-client";
import { commentFrame, tag } from "./stamp.js";

/** One sender connection; errors counts the server's error replies by code, and unexpected closes. */
export type Sender = { send: (content: string) => void; errors: Map<string, number>; close: () => void };

const ERROR = Buffer.from('{"type":"error"');

/** Opens a raw WebSocket sender; rejects after timeoutMs. */
export function wsSender(url: string, timeoutMs: number): Promise<Sender> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: timeoutMs });
    const errors = new Map<string, number>();
    const count = (key: string) => errors.set(key, (errors.get(key) ?? 0) + 1);
    let closing = false;
    ws.on("message", (data) => {
      const buf = data as Buffer;
      if (buf.length < ERROR.length || buf.compare(ERROR, 0, ERROR.length, 0, ERROR.length) !== 0) return;
      try {
        count(String((JSON.parse(buf.toString("utf8")) as { code?: unknown }).code));
      } catch {
        count("BAD_ERROR_FRAME");
      }
    });
    ws.on("error", reject);
    ws.on("close", (code) => {
      if (!closing) count(`closed:${code}`);
      reject(new Error(`sender closed ${code} before open`));
    });
    ws.on("open", () =>
      resolve({
        send: (content) => ws.send(commentFrame(content)),
        errors,
        close: () => {
          closing = true;
          ws.terminate();
        },
      }),
    );
  });
}

/** Opens a socket.io sender (query role=sender, so the baseline keeps it out of the room). */
export function socketIoSender(url: string, timeoutMs: number): Promise<Sender> {
  return new Promise((resolve, reject) => {
    const socket = io(url, {
      transports: ["websocket"],
      forceNew: true,
      reconnection: false,
      timeout: timeoutMs,
      query: { role: "sender" },
    });
    const errors = new Map<string, number>();
    let closing = false;
    socket.once("connect_error", reject);
    socket.once("connect", () => {
      socket.on("disconnect", (reason) => {
        if (!closing) errors.set(`closed:${reason}`, (errors.get(`closed:${reason}`) ?? 0) + 1);
      });
      resolve({
        send: (content) => void socket.emit("comment", { comment: { content } }),
        errors,
        close: () => {
          closing = true;
          socket.disconnect();
        },
      });
    });
  });
}

export type Sending = { sent: () => number; stop: () => void };

/** Sends `rate` tagged comments per second round-robin over the senders until stop() or maxMs, whichever is first. */
export function sendAtRate(senders: Sender[], rate: number, maxMs: number): Sending {
  const start = performance.now();
  let sent = 0;
  const timer = setInterval(() => {
    const elapsed = performance.now() - start;
    const due = Math.floor((Math.min(elapsed, maxMs) * rate) / 1000);
    for (; sent < due; sent++) senders[sent % senders.length]!.send(tag(sent));
    if (elapsed >= maxMs) clearInterval(timer);
  }, 2);
  return { sent: () => sent, stop: () => clearInterval(timer) };
}
