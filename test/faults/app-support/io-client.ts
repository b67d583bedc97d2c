// A socket.io viewer of a live room (the host console's transport) that records what it got.
import { io as ioClient, type Socket } from "socket.io-client";
import { waitFor } from "../../support/clients.js";

export type IoMessage = { type: string; [k: string]: unknown };

/** Connects over socket.io's WebSocket transport with the handshake `auth`; no reconnection. */
export function ioViewer(url: string, auth: Record<string, unknown>, extraHeaders?: Record<string, string>) {
  const socket: Socket = ioClient(url, { transports: ["websocket"], auth, reconnection: false, extraHeaders });
  const got: IoMessage[] = [];
  socket.onAny((_event: string, msg: IoMessage) => got.push(msg));
  return {
    socket,
    got,
    /** Resolves once the room's snapshot arrived. */
    snapshot: () => waitFor(() => got.some((m) => m.type === "snapshot"), "socket.io snapshot"),
    /** Rejects with the handshake's refusal (its `data.code`), resolves when connected. */
    handshake: () =>
      new Promise<void>((resolve, reject) => {
        socket.once("connect", () => resolve());
        socket.once("connect_error", (err: Error & { data?: { code?: string } }) => reject(Object.assign(err, { code: err.data?.code })));
      }),
    /** Emits a command and resolves with the server's reply (ack or error). */
    command: (event: string, payload: unknown) => new Promise<IoMessage>((resolve) => socket.emit(event, payload, (reply: IoMessage) => resolve(reply))),
    close: () => socket.disconnect(),
  };
}
