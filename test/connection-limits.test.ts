// Live sockets per client address (WS_MAX_CONNECTIONS_PER_IP): raw WebSocket, socket.io and the
// group page's WebSocket share one count per node; past it an upgrade or handshake is 429.
import WebSocket from "ws";
import { io as ioClient, type Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestServices } from "./support/services.js";
import { startTestServer, type TestServer } from "./support/servers.js";
import { devSession, devStream, sleep, waitFor, WsClient } from "./support/clients.js";

const LIMIT = 3;

/** The HTTP answer to a refused upgrade: status, code and Retry-After. */
async function refusedUpgrade(url: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; code: string; retryAfter: string | undefined }>((resolve, reject) => {
    const ws = new WebSocket(url, { headers, perMessageDeflate: false });
    ws.once("open", () => {
      ws.close();
      reject(new Error(`${url} was accepted`));
    });
    ws.once("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode!, code: (JSON.parse(body) as { code: string }).code, retryAfter: res.headers["retry-after"] }));
    });
    ws.once("error", () => {});
  });
}

async function ioConnect(url: string, streamId: string) {
  const socket = ioClient(url, { transports: ["websocket"], auth: { streamId }, reconnection: false });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });
  return socket;
}

describe("connections per address", () => {
  const services = useTestServices();
  let server: TestServer;
  let streamId = "";
  let room = "";

  beforeAll(async () => {
    server = await startTestServer(services.databaseUrl, services.redisPrefix, { WS_MAX_CONNECTIONS_PER_IP: String(LIMIT), TRUST_PROXY: "true" });
    const host = await devSession(server.url, "Host");
    streamId = await devStream(server.url, host.token);
    room = `${server.ws}/live-stream/${streamId}/ws`;
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("refuses the socket past the limit on every transport with 429 RATE_LIMITED, and lets one in again once a place is free", async () => {
    const first = await WsClient.connect(room);
    const second = await WsClient.connect(room);
    const io: Socket = await ioConnect(server.url, streamId);

    const refused = await refusedUpgrade(room);
    expect(refused).toEqual({ status: 429, code: "RATE_LIMITED", retryAfter: "5" });
    // socket.io: a new session, long-polling or WebSocket, is refused before it exists.
    const polling = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling`);
    expect(polling.status).toBe(429);
    expect(polling.headers.get("retry-after")).toBe("5");
    expect(((await polling.json()) as { code: string }).code).toBe("RATE_LIMITED");
    expect((await refusedUpgrade(`${server.ws}/socket.io/?EIO=4&transport=websocket`)).status).toBe(429);
    // The group page's socket counts with them (refused before its group is even looked up).
    expect(await refusedUpgrade(`${server.ws}/group-buy/no-such-group/ws`)).toMatchObject({ status: 429, code: "RATE_LIMITED" });
    // Another address (behind our proxy) is counted on its own.
    const proxied = await WsClient.connect(room, { headers: { "x-forwarded-for": "203.0.113.7" } });
    await proxied.next("snapshot");

    first.close();
    await first.closed;
    const again = await WsClient.connect(room);
    await again.next("snapshot");
    io.close();
    await waitFor(() => !io.connected, "socket.io closed");
    await sleep(100);
    const ioAgain = await ioConnect(server.url, streamId);
    for (const c of [second, again, proxied]) c.close();
    ioAgain.close();
  });

  it("gives back the place of every refused or failed upgrade", async () => {
    const held = [await WsClient.connect(room), await WsClient.connect(room)];
    // Upgrades that fail after taking a place: unknown stream, bad token, malformed position.
    expect((await refusedUpgrade(`${server.ws}/live-stream/no-such-stream/ws`)).status).toBe(404);
    expect((await refusedUpgrade(room, { authorization: "Bearer not-a-token" })).status).toBe(401);
    expect((await refusedUpgrade(`${room}?epoch=x`)).status).toBe(400);
    expect((await refusedUpgrade(`${server.ws}/group-buy/no-such-group/ws`)).status).toBe(404);
    // The third place is still free, and only that one.
    const third = await WsClient.connect(room);
    expect((await refusedUpgrade(room)).status).toBe(429);
    for (const c of [...held, third]) c.close();
    await Promise.all([...held, third].map((c) => c.closed));
    const all = await Promise.all(Array.from({ length: LIMIT }, () => WsClient.connect(room)));
    for (const c of all) c.close();
  });
});
