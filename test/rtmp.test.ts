// RTMP ingest with the real ffmpeg: keys, stream_start / stream_end to viewers, HTTP-FLV playback.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { connect } from "node:net";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestServices } from "./support/services.js";
import { startTestServer, type TestServer } from "./support/servers.js";
import { adminToken } from "./support/admin.js";
import { devSession, sleep, WsClient } from "./support/clients.js";
import { httpClient, type HttpClient } from "./support/http.js";

type Created = { id: string; streamKey: string; rtmpUrl: string; flvUrl: string };
type Detail = { stream: { status: string; flvUrl: string } };

/** ffmpeg publishing a test pattern with sound, as an encoder would; every one is killed after the file. */
const publishers = new Set<ChildProcess>();
function publish(url: string) {
  const child = spawn("/usr/bin/ffmpeg", [
    ...["-hide_banner", "-loglevel", "error", "-nostdin", "-re"],
    ...["-f", "lavfi", "-i", "testsrc=size=320x240:rate=15", "-f", "lavfi", "-i", "sine=frequency=440"],
    ...["-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "15", "-c:a", "aac", "-t", "30", "-f", "flv", url],
  ], { stdio: ["ignore", "ignore", "pipe"] });
  publishers.add(child);
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<{ code: number | null }>((resolve) =>
    child.once("exit", (code) => {
      publishers.delete(child);
      resolve({ code });
    }),
  );
  return { child, exited, stderr: () => stderr };
}
/** ffmpeg fails, showing our RTMP `onStatus` error. */
async function expectRefused(p: ReturnType<typeof publish>, reason: string) {
  expect((await p.exited).code, p.stderr()).not.toBe(0);
  expect(p.stderr()).toContain(`Server error: ${reason}`);
}
const killPublishers = () => publishers.forEach((c) => c.kill("SIGKILL"));
process.once("exit", killPublishers);

/** The first `min` bytes a player gets from the FLV URL. */
async function flvBytes(url: string, min: number) {
  const abort = new AbortController();
  const res = await fetch(url, { signal: abort.signal });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("video/x-flv");
  const reader = res.body!.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  while (length < min) {
    const { value, done } = await reader.read();
    if (done) break;
    chunks.push(value);
    length += value.length;
  }
  abort.abort();
  return Buffer.concat(chunks);
}

describe("RTMP ingest", () => {
  let server: TestServer;
  let call: HttpClient;
  let admin: string;
  let host: { token: string; userId: string };
  let viewerToken: string;
  const services = useTestServices();

  beforeAll(async () => {
    server = await startTestServer(services.databaseUrl, services.redisPrefix, { INGEST_ENABLED: "true", RTMP_PORT: "0", FLV_PORT: "0", RTMP_IDLE_TIMEOUT_SEC: "2" });
    call = httpClient(server.url);
    admin = await adminToken(services.databaseUrl);
    host = await devSession(server.url, "Host");
    viewerToken = (await devSession(server.url, "Viewer")).token;
  });
  afterAll(async () => {
    killPublishers();
    await server?.stop();
  });

  async function newStream(title: string) {
    const res = await call<Created>("POST", "/v1/streams", { token: admin, body: { title, hostUserId: host.userId } });
    expect(res.status).toBe(201);
    return res.body;
  }
  async function viewer(streamId: string) {
    const ws = await WsClient.connect(`${server.ws}/live-stream/${streamId}/ws`, { token: viewerToken });
    await ws.next("snapshot");
    return ws;
  }
  const status = async (streamId: string) => (await call<Detail>("GET", `/v1/streams/${streamId}`)).body.stream.status;

  it("goes live on publish, plays HTTP-FLV, and ends within 5 s of the publisher dying", async () => {
    const stream = await newStream("Tea tasting");
    expect(stream.rtmpUrl).toMatch(new RegExp(`^rtmp://127\\.0\\.0\\.1:\\d+/live/${stream.id}$`));
    expect(stream.flvUrl).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/live/${stream.id}\\.flv$`));
    const seed = await call<Detail>("GET", `/api/live-stream/${stream.id}`);
    expect(seed.body.stream.flvUrl).toBe(stream.flvUrl);
    expect(seed.body.stream.flvUrl).not.toContain(stream.streamKey);
    const ws = await viewer(stream.id);

    const ffmpeg = publish(`${stream.rtmpUrl}?key=${stream.streamKey}`);
    expect(await ws.next("stream_start", 15_000)).toMatchObject({ streamId: stream.id });
    expect(await status(stream.id)).toBe("live");

    const flv = await flvBytes(stream.flvUrl, 16 * 1024);
    expect([...flv.subarray(0, 3)]).toEqual([0x46, 0x4c, 0x56]);
    expect(flv.length).toBeGreaterThanOrEqual(16 * 1024); // tags keep coming after the header

    const stoppedAt = Date.now();
    ffmpeg.child.kill("SIGKILL");
    expect(await ws.next("stream_end", 5000)).toMatchObject({ streamId: stream.id });
    const latencyMs = Date.now() - stoppedAt;
    console.log(`stream_end ${latencyMs} ms after ffmpeg was killed`);
    expect(latencyMs).toBeLessThan(5000);
    expect(await status(stream.id)).toBe("ended");
    ws.close();
  });

  it("publishes and plays a stream whose id is not a UUID (every id the API accepts)", async () => {
    const streamId = `Tea_room-${randomBytes(3).toString("hex")}`;
    const sql = postgres(services.databaseUrl, { max: 1, onnotice: () => {} });
    await sql`insert into live_streams (id, host_user_id, title) values (${streamId}, ${host.userId}, 'Named room')`;
    await sql.end();
    const key = await call<{ streamKey: string; rtmpUrl: string }>("POST", `/v1/streams/${streamId}/key`, { token: host.token });
    expect(key.body.rtmpUrl).toMatch(new RegExp(`/live/${streamId}$`));
    const ws = await viewer(streamId);
    const ffmpeg = publish(`${key.body.rtmpUrl}?key=${key.body.streamKey}`);
    expect(await ws.next("stream_start", 15_000)).toMatchObject({ streamId });
    const { flvUrl } = (await call<Detail>("GET", `/v1/streams/${streamId}`)).body.stream;
    expect(flvUrl).toMatch(new RegExp(`/live/${streamId}\\.flv$`));
    expect([...(await flvBytes(flvUrl, 4096)).subarray(0, 3)]).toEqual([0x46, 0x4c, 0x56]);
    ffmpeg.child.kill("SIGTERM");
    await ws.next("stream_end", 5000);
    // Ids the API never accepts are still refused by name.
    const base = key.body.rtmpUrl.replace(/\/live\/.*$/, "/live");
    await expectRefused(publish(`${base}/${"x".repeat(65)}?key=${key.body.streamKey}`), "publish to live/<streamId>?key=<key>");
    ws.close();
  });

  it("refuses wrong, missing and rotated-away keys, unknown streams and a second publisher", async () => {
    const stream = await newStream("Fans");
    const ws = await viewer(stream.id);
    const base = stream.rtmpUrl.replace(/\/live\/.*$/, "/live");
    const refused: [ReturnType<typeof publish>, string][] = [
      [publish(`${stream.rtmpUrl}?key=sk_${randomBytes(24).toString("base64url")}`), "wrong stream key"],
      [publish(stream.rtmpUrl), "wrong stream key"],
      [publish(`${base}/${randomUUID()}?key=${stream.streamKey}`), "no such stream"],
      [publish(`${base.replace(/live$/, "other")}/${stream.id}?key=${stream.streamKey}`), "publish to live/<streamId>?key=<key>"],
    ];
    for (const [p, reason] of refused) await expectRefused(p, reason);

    const rotated = await call<{ streamKey: string; rtmpUrl: string }>("POST", `/v1/streams/${stream.id}/key`, { token: host.token });
    expect(rotated.body.rtmpUrl).toBe(stream.rtmpUrl);
    await expectRefused(publish(`${stream.rtmpUrl}?key=${stream.streamKey}`), "wrong stream key");
    await sleep(300);
    expect(ws.of("stream_start")).toEqual([]);
    expect(await status(stream.id)).toBe("idle");

    const ffmpeg = publish(`${stream.rtmpUrl}?key=${rotated.body.streamKey}`);
    await ws.next("stream_start", 15_000);
    await expectRefused(publish(`${stream.rtmpUrl}?key=${rotated.body.streamKey}`), "the stream already has a publisher");
    expect(ws.of("stream_end")).toEqual([]);
    expect(ffmpeg.child.exitCode).toBeNull();

    const stoppedAt = Date.now();
    ffmpeg.child.kill("SIGTERM"); // a clean stop, as when the host ends the broadcast
    await ws.next("stream_end", 5000);
    const latencyMs = Date.now() - stoppedAt;
    console.log(`stream_end ${latencyMs} ms after ffmpeg was told to stop`);
    expect(latencyMs).toBeLessThan(5000);
    expect(ws.of("stream_start")).toHaveLength(1);
    ws.close();
  });

  it("ends a stream whose publisher goes silent without closing (a dead network)", async () => {
    const stream = await newStream("Mountain pass");
    const ws = await viewer(stream.id);
    const ffmpeg = publish(`${stream.rtmpUrl}?key=${stream.streamKey}`);
    await ws.next("stream_start", 15_000);
    ffmpeg.child.kill("SIGSTOP"); // the socket stays open, no byte comes: RTMP_IDLE_TIMEOUT_SEC=2
    const frozenAt = Date.now();
    await ws.next("stream_end", 5000);
    const latencyMs = Date.now() - frozenAt;
    console.log(`stream_end ${latencyMs} ms after ffmpeg froze`);
    expect(latencyMs).toBeLessThan(5000);
    ffmpeg.child.kill("SIGKILL");
    ws.close();
  });

  it("survives malformed RTMP and answers only stream FLV paths", async () => {
    const stream = await newStream("Garbage");
    const rtmpPort = Number(new URL(stream.rtmpUrl).port);
    // A handshake, then `connect` without a tcUrl: NMS's parser throws on it; the guard drops the client.
    const connectCommand = Buffer.concat([
      Buffer.from([0x02, 0x00, 0x07]),
      Buffer.from("connect"),
      Buffer.from([0x00, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0]),
      Buffer.from([0x03, 0x00, 0x00, 0x09]),
    ]);
    const chunkHeader = Buffer.from([0x03, 0, 0, 0, 0, 0, connectCommand.length, 0x14, 0, 0, 0, 0]);
    const socket = connect(rtmpPort, "127.0.0.1");
    socket.on("error", () => {});
    socket.resume();
    socket.write(Buffer.concat([Buffer.from([3]), randomBytes(1536)]));
    await sleep(100);
    socket.write(Buffer.concat([randomBytes(1536), chunkHeader, connectCommand]));
    const sent = Date.now();
    await new Promise((r) => socket.once("close", r));
    expect(Date.now() - sent).toBeLessThan(2000); // dropped at once, not by the idle timeout

    const flvBase = stream.flvUrl.replace(/\/live\/.*$/, "");
    expect((await fetch(`${flvBase}/live/${randomUUID()}.flv`)).status).toBe(404);
    expect((await fetch(`${flvBase}/admin/`)).status).toBe(404);
    expect((await fetch(stream.flvUrl, { method: "POST", body: "x" })).status).toBe(405);
    expect((await call("GET", "/healthz")).status).toBe(200);
  });
});
