// Viewer counts count people, not sockets; likes are limited per user, not per socket (issue 11,
// finding 8: 300 sockets from one client inflated the count, 20 sockets sent 2,000 likes at once).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { io as ioClient } from "socket.io-client";
import { useTestServices } from "./support/services.js";
import { spawnServer, startTestServer, type SpawnedServer, type TestServer } from "./support/servers.js";
import { devSession, devStream, waitFor, WsClient, type Frame } from "./support/clients.js";

const lastCount = (c: WsClient, type = "viewer_count") => (c.of(type).at(-1)?.count as number | undefined) ?? -1;

describe("people and likes on one node", () => {
  let server: TestServer;
  const services = useTestServices();

  beforeAll(async () => {
    // One like a second after the burst: a second burst can only come from a bucket of its own.
    server = await startTestServer(services.databaseUrl, services.redisPrefix, { COUNTS_INTERVAL_MS: "200", LIKES_PER_SEC_PER_USER: "1" });
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function open(url: string, token?: string) {
    const ws = await WsClient.connect(url, token ? { token } : {});
    await ws.next("snapshot");
    return ws;
  }

  it("counts a user with many sockets (raw and socket.io) once, and each anonymous connection", async () => {
    const host = await devSession(server.url, "Host");
    const fan = await devSession(server.url, "Fan");
    const bo = await devSession(server.url, "Bo");
    const streamId = await devStream(server.url, host.token);
    const url = `${server.ws}/live-stream/${streamId}/ws`;

    const fanSockets = [await open(url, fan.token), await open(url, fan.token)];
    const browser = ioClient(server.url, { transports: ["websocket"], auth: { streamId, token: fan.token }, reconnection: false });
    const ioFrames: Frame[] = [];
    browser.onAny((_event: string, m: Frame) => ioFrames.push(m));
    await waitFor(() => ioFrames.some((m) => m.type === "snapshot"), "socket.io snapshot");
    const boWs = await open(url, bo.token);
    const anonymous = [await open(url), await open(url)];
    const everyone = [...fanSockets, boWs, ...anonymous];

    // Fan (3 sockets) + Bo + 2 anonymous: 4 viewers, not 6. Counts only grow while sockets connect,
    // and a count by sockets never comes back below 5 from there: each wait below tells them apart.
    await Promise.all(everyone.map((c) => c.until(() => lastCount(c) === 4, 10_000, "viewer_count 4")));
    await waitFor(() => ioFrames.some((m) => m.type === "viewer_count" && m.count === 4), "socket.io viewer_count 4");
    anonymous[1]!.close();
    await Promise.all([...fanSockets, boWs, anonymous[0]!].map((c) => c.until(() => lastCount(c) === 3, 10_000, "viewer_count 3")));

    // Fan still has a socket: closing the others (and Bo's) leaves Fan counted beside two anonymous viewers.
    browser.close();
    fanSockets[1]!.close();
    boWs.close();
    const late = await open(url);
    await Promise.all([fanSockets[0]!, anonymous[0]!, late].map((c) => c.until(() => lastCount(c) === 3, 10_000, "viewer_count 3 again")));
    fanSockets[0]!.close();
    await Promise.all([anonymous[0]!, late].map((c) => c.until(() => lastCount(c) === 2, 10_000, "viewer_count 2")));
    for (const c of [anonymous[0]!, late]) c.close();
  });

  it("gives a user's sockets one like bucket between them; another user has their own", async () => {
    const host = await devSession(server.url, "Host");
    const fan = await devSession(server.url, "Fan");
    const bo = await devSession(server.url, "Bo");
    const streamId = await devStream(server.url, host.token);
    const url = `${server.ws}/live-stream/${streamId}/ws`;
    const fanSockets = await Promise.all(Array.from({ length: 5 }, () => open(url, fan.token)));
    const watcher = await open(url);

    // A burst of 100 from each of Fan's five sockets: one goes through, four are refused.
    fanSockets.forEach((ws, i) => ws.send({ type: "like", id: `l${i}`, count: 100 }));
    const answers = await Promise.all(
      fanSockets.map(async (ws, i) => {
        await ws.until((f) => f.some((x) => x.id === `l${i}` && (x.type === "ack" || x.type === "error")), 10_000, "like answer");
        return ws.frames.find((x) => x.id === `l${i}`)!;
      }),
    );
    expect(answers.filter((a) => a.type === "ack")).toHaveLength(1);
    expect(answers.filter((a) => a.type === "error").map((a) => a.code)).toEqual(["RATE_LIMITED", "RATE_LIMITED", "RATE_LIMITED", "RATE_LIMITED"]);
    await watcher.until(() => lastCount(watcher, "like_count") === 100, 10_000, "like_count 100");

    const boWs = await open(url, bo.token);
    boWs.send({ type: "like", id: "b", count: 100 });
    await boWs.until((f) => f.some((x) => x.id === "b"), 10_000, "Bo's answer");
    expect(boWs.frames.find((x) => x.id === "b")).toMatchObject({ type: "ack" });
    await watcher.until(() => lastCount(watcher, "like_count") === 200, 10_000, "like_count 200");
    for (const c of [...fanSockets, watcher, boWs]) c.close();
  });
});

describe("people on two nodes", () => {
  let a: TestServer;
  let b: SpawnedServer;
  const services = useTestServices();

  beforeAll(async () => {
    const env = { COUNTS_INTERVAL_MS: "200" };
    [a, b] = await Promise.all([startTestServer(services.databaseUrl, services.redisPrefix, env), spawnServer(services.databaseUrl, services.redisPrefix, env)]);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it("counts a user watching from both nodes once, until their last socket on either closes", async () => {
    const host = await devSession(a.url, "Host");
    const fan = await devSession(a.url, "Fan");
    const streamId = await devStream(a.url, host.token);
    const path = `/live-stream/${streamId}/ws`;
    const connect = async (base: string, token?: string) => {
      const ws = await WsClient.connect(`${base}${path}`, token ? { token } : {});
      await ws.next("snapshot");
      return ws;
    };
    const fanOnA = [await connect(a.ws, fan.token), await connect(a.ws, fan.token)];
    const fanOnB = await connect(b.ws, fan.token);
    const anonA = await connect(a.ws);
    const anonB = await connect(b.ws);

    // Fan (three sockets on two nodes) + one anonymous viewer on each node: 3, where sockets would make 5.
    await Promise.all([anonA, anonB, fanOnB].map((c) => c.until(() => lastCount(c) === 3, 15_000, "viewer_count 3")));
    anonB.close();
    await Promise.all([anonA, fanOnB].map((c) => c.until(() => lastCount(c) === 2, 15_000, "viewer_count 2")));
    // Fan leaves node A but still watches on B: Fan, anonA and a newcomer on B.
    for (const c of fanOnA) c.close();
    const newcomer = await connect(b.ws);
    await Promise.all([anonA, fanOnB, newcomer].map((c) => c.until(() => lastCount(c) === 3, 15_000, "viewer_count 3 again")));
    fanOnB.close();
    await Promise.all([anonA, newcomer].map((c) => c.until(() => lastCount(c) === 2, 15_000, "viewer_count 2 again")));
    anonA.close();
    newcomer.close();
  });
});
