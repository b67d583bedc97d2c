// lib/realtime.js on its own, against a real server: acks and error frames, heartbeats that find a
// dead socket, reconnects from the last position, a login that re-opens the socket with the token.
import { createRequire } from "node:module";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { devSession, devStream, waitFor, WsClient } from "../support/clients.js";
import { MINI_PROGRAM_ROOT, useMiniProgram } from "./support/harness.js";

const require = createRequire(import.meta.url);

type Frame = { type: string; seq?: number; comment?: { content: string; userId: string } };
interface RoomClientLike {
  status: string;
  connect(): RoomClientLike;
  send(command: Record<string, unknown>): Promise<{ type: string; id: string }>;
  comment(text: string): Promise<{ type: string; seq?: number }>;
  close(): void;
}
type RoomClientCtor = new (opts: Record<string, unknown>) => RoomClientLike;

describe("lib/realtime.js RoomClient", () => {
  const mp = useMiniProgram();
  let RoomClient: RoomClientCtor;
  let host: { token: string; userId: string };

  beforeAll(async () => {
    RoomClient = (require(join(MINI_PROGRAM_ROOT, "lib/realtime.js")) as { RoomClient: RoomClientCtor }).RoomClient;
    host = await devSession(mp.server.url, "Host");
  });

  function client(streamId: string, extra: Record<string, unknown> = {}) {
    const events: Frame[] = [];
    const statuses: string[] = [];
    const errors: Frame[] = [];
    const c = new RoomClient({
      streamId,
      onEvent: (e: Frame) => events.push(e),
      onStatus: (s: string) => statuses.push(s),
      onError: (f: Frame) => errors.push(f),
      ...extra,
    }).connect();
    return { c, events, statuses, errors };
  }

  it("answers commands with acks, refuses with the error frame's code, and reconnects with the token after a login", async () => {
    const streamId = await devStream(mp.server.url, host.token);
    mp.useDevice("realtime-1");
    const { c, statuses } = client(streamId);
    await waitFor(() => c.status === "live", "live");
    expect(statuses).toEqual(["connecting", "live"]);
    await expect(c.send({ type: "ping" })).resolves.toMatchObject({ type: "pong" });
    await expect(c.comment("hello")).rejects.toMatchObject({ code: "AUTH_REQUIRED" });
    const first = mp.wx.openSockets().filter((s) => s.url.includes(streamId));
    expect(first).toHaveLength(1);

    // The viewer logs in: the next command goes out on a socket opened with the token.
    const me = await mp.signIn("Mei");
    const ack = await c.comment("hello");
    expect(ack).toMatchObject({ type: "ack" });
    const now = mp.wx.openSockets().filter((s) => s.url.includes(streamId));
    expect(now).toHaveLength(1);
    expect(now[0]).not.toBe(first[0]);
    expect(now[0]!.headers.Authorization).toBe(`Bearer ${me.token}`);
    await expect(c.comment("   ")).rejects.toMatchObject({ code: "EMPTY_COMMENT" });
    c.close();
    await waitFor(() => mp.wx.openSockets().filter((s) => s.url.includes(streamId)).length === 0, "closed");
    mp.signOut();
  });

  it("pings on an interval; a socket that stops answering is replaced, and the events missed meanwhile arrive once, in order", async () => {
    const streamId = await devStream(mp.server.url, host.token);
    mp.useDevice("realtime-2");
    const { c, events, statuses } = client(streamId, { heartbeatMs: 250, pongTimeoutMs: 400 });
    await waitFor(() => c.status === "live", "live");
    const sock = mp.wx.openSockets().find((s) => s.url.includes(streamId))!;
    await waitFor(() => sock.sent.some((f) => f.includes('"ping"')), "a heartbeat ping");

    const talker = await WsClient.connect(`${mp.server.ws}/live-stream/${streamId}/ws`, { token: host.token });
    await talker.next("snapshot");
    let n = 0;
    const say = async (k: number) => {
      for (let i = 0; i < k; i++) {
        n += 1;
        talker.send({ type: "comment", id: `c${n}`, comment: { content: `line ${n}` } });
        await talker.until((f) => f.some((x) => x.type === "ack" && x.id === `c${n}`), 10_000, `ack ${n}`);
      }
    };
    await say(2);
    await waitFor(() => events.length === 2, "two events");
    // The network silently stops delivering: no pong comes back, the client gives up on the socket.
    sock.hold();
    await say(3);
    await waitFor(() => mp.wx.openSockets().some((s) => s !== sock && s.url.includes(streamId)), "a new socket after the missed pong", 5000);
    await say(1);
    await waitFor(() => events.length >= n, "all events");
    await new Promise((r) => setTimeout(r, 300));
    expect(events.map((e) => e.comment!.content)).toEqual(Array.from({ length: n }, (_, i) => `line ${i + 1}`));
    expect(statuses).toContain("reconnecting");
    sock.release();
    c.close();
    talker.close();
  });
});
