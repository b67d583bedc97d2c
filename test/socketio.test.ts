// Acceptance 4: socket.io clients share the room with raw WebSocket viewers; host actions are guarded.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { io as ioClient, type Socket } from "socket.io-client";
import { useTestServices } from "./support/services.js";
import { spawnServer, startTestServer, type SpawnedServer, type TestServer } from "./support/servers.js";
import { devSession, devStream, sleep, waitFor, WsClient } from "./support/clients.js";

type Msg = { type: string; [k: string]: unknown };

function connectIo(url: string, auth: Record<string, unknown>, extraHeaders?: Record<string, string>) {
  const socket = ioClient(url, { transports: ["websocket"], auth, reconnection: false, extraHeaders });
  const got: Msg[] = [];
  socket.onAny((_event: string, msg: Msg) => got.push(msg));
  return { socket, got };
}


const emitWithAck = (socket: Socket, event: string, payload: unknown) =>
  new Promise<Msg>((resolve) => socket.emit(event, payload, (reply: Msg) => resolve(reply)));

describe("socket.io transport", () => {
  let server: TestServer;
  // socket.io on uWS patches its adapter prototype for one app per process: a second node is a process.
  let strict: SpawnedServer;
  const services = useTestServices();

  beforeAll(async () => {
    server = await startTestServer(services.databaseUrl, services.redisPrefix, { COUNTS_INTERVAL_MS: "200" });
    strict = await spawnServer(services.databaseUrl, services.redisPrefix, { ALLOWED_ORIGINS: "https://console.pinlive.test" });
  });
  afterAll(async () => {
    await server?.stop();
    await strict?.stop();
  });

  it("sees the same events as raw WebSocket viewers, in the same order", async () => {
    const host = await devSession(server.url, "Host");
    const viewer = await devSession(server.url, "Lan");
    const streamId = await devStream(server.url, host.token);
    const browser = connectIo(server.url, { streamId, token: viewer.token });
    const raw = await WsClient.connect(`${server.ws}/live-stream/${streamId}/ws`, { token: host.token });
    await waitFor(() => browser.got.some((m) => m.type === "snapshot"), "snapshot");
    expect(browser.got[0]).toMatchObject({ type: "snapshot", you: { userId: viewer.userId, role: "viewer" } });

    const ack = await emitWithAck(browser.socket, "comment", { comment: { content: "from the browser" } });
    expect(ack).toMatchObject({ type: "ack", seq: 1 });
    raw.send({ type: "comment", comment: { content: "from the app" } });
    raw.send({ type: "product_highlight", productId: "sku-9", title: "Fan", priceFen: 3900 });
    await raw.until((f) => f.filter((x) => x.type === "comment").length === 2, 10_000, "2 comments");
    await waitFor(() => browser.got.filter((m) => m.type === "comment").length === 2, `2 comments on socket.io: ${JSON.stringify(browser.got)}`);
    await waitFor(() => browser.got.some((m) => m.type === "product_highlight"), "highlight");
    await waitFor(() => browser.got.some((m) => m.type === "viewer_count" && m.count === 2), "viewer_count 2");

    const ioComments = browser.got.filter((m) => m.type === "comment");
    expect(ioComments).toEqual(raw.of("comment"));
    expect(ioComments.map((m) => m.seq)).toEqual([1, 2]);
    expect(browser.got.find((m) => m.type === "product_highlight")).toMatchObject({ productId: "sku-9", product: { priceFen: 3900 } });

    browser.socket.disconnect();
    raw.close();
  });

  it("a viewer's host action gets FORBIDDEN and changes nothing", async () => {
    const host = await devSession(server.url, "Host");
    const viewer = await devSession(server.url, "Bo");
    const streamId = await devStream(server.url, host.token);
    const browser = connectIo(server.url, { streamId, token: viewer.token });
    await waitFor(() => browser.got.some((m) => m.type === "snapshot"), "snapshot");

    for (const [event, payload] of [
      ["product_highlight", { productId: "stolen" }],
      ["stream_end", {}],
      ["pin", { text: "free stuff" }],
      ["mute", { userId: host.userId }],
      ["slow_mode", { seconds: 60 }],
      ["delete_comment", { commentId: "abc" }],
    ] as const) {
      const reply = await emitWithAck(browser.socket, event, payload);
      expect(reply, event).toMatchObject({ type: "error", code: "FORBIDDEN" });
    }
    await sleep(300);
    const late = connectIo(server.url, { streamId });
    await waitFor(() => late.got.some((m) => m.type === "snapshot"), "snapshot");
    expect(late.got[0]).toMatchObject({ state: { status: "idle", bubble: null, pinned: null, slowModeSec: 0 } });
    expect(browser.got.filter((m) => ["product_highlight", "stream_end", "pinned", "slow_mode"].includes(m.type))).toEqual([]);

    const comment = await emitWithAck(browser.socket, "comment", { comment: { content: "still allowed" } });
    expect(comment).toMatchObject({ type: "ack" });
    browser.socket.disconnect();
    late.socket.disconnect();
  });

  it("refuses a bad token and an unknown stream at the handshake, with the code", async () => {
    const host = await devSession(server.url, "Host");
    const streamId = await devStream(server.url, host.token);
    const bad = connectIo(server.url, { streamId, token: "y".repeat(43) });
    const err = await new Promise<Error & { data?: { code: string } }>((r) => bad.socket.on("connect_error", r));
    expect(err.data?.code).toBe("AUTH_FAILED");
    const missing = connectIo(server.url, { streamId: "nope" });
    const err2 = await new Promise<Error & { data?: { code: string } }>((r) => missing.socket.on("connect_error", r));
    expect(err2.data?.code).toBe("STREAM_NOT_FOUND");
  });

  it("checks Origin against the allowlist on both transports", async () => {
    const host = await devSession(strict.url, "Host");
    const streamId = await devStream(strict.url, host.token);
    const url = `${strict.ws}/live-stream/${streamId}/ws`;
    await expect(WsClient.connect(url, { headers: { origin: "https://evil.test" } })).rejects.toMatchObject({ status: 403 });
    const ok = await WsClient.connect(url, { headers: { origin: "https://console.pinlive.test" } });
    await ok.next("snapshot");
    ok.close();
    const native = await WsClient.connect(url);
    await native.next("snapshot");
    native.close();

    const evil = connectIo(strict.url, { streamId }, { origin: "https://evil.test" });
    await new Promise((r) => evil.socket.on("connect_error", r));
    expect(evil.socket.connected).toBe(false);
    const good = connectIo(strict.url, { streamId }, { origin: "https://console.pinlive.test" });
    await waitFor(() => good.got.some((m) => m.type === "snapshot"), "snapshot on allowed origin");
    good.socket.disconnect();
  });
});
