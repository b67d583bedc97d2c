// Case 15: stream keys with the real ffmpeg over RTMP. Wrong, missing and other streams' keys are
// refused; rotating the key ends the publisher that used the old one and only the new one works;
// the key (and its hash) never reaches a viewer's API, the room or the log.
import { createHash } from "node:crypto";
import { expect } from "vitest";
import { adminToken } from "../support/admin.js";
import { devSession, WsClient } from "../support/clients.js";
import { httpClient } from "../support/http.js";
import { secretsIn } from "../support/logs.js";
import { faultCase } from "./fault-case.js";
import { useCaseServer } from "./app-support/case-server.js";
import { publishTestPattern, refusalOf } from "./app-support/ffmpeg.js";
import { ioViewer } from "./app-support/io-client.js";

type Created = { id: string; streamKey: string; rtmpUrl: string; flvUrl: string };
const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

// Debug logging: a key must not reach the log at any level.
const ctx = useCaseServer({ INGEST_ENABLED: "true", RTMP_PORT: "0", FLV_PORT: "0", LOG_LEVEL: "debug" });

faultCase(15, "stream keys", async (log) => {
  const { server, services } = ctx;
  const call = httpClient(server.url);
  const admin = await adminToken(services.databaseUrl);
  const host = await devSession(server.url, "Host");
  const viewer = await devSession(server.url, "Viewer");
  const newStream = async (title: string) => (await call<Created>("POST", "/v1/streams", { token: admin, body: { title, hostUserId: host.userId } })).body;
  const stream = await newStream("Tea tasting");
  const other = await newStream("Another show");
  const status = async () => (await call<{ stream: { status: string } }>("GET", `/v1/streams/${stream.id}`)).body.stream.status;
  const ws = await WsClient.connect(`${server.ws}/live-stream/${stream.id}/ws`, { token: viewer.token });
  await ws.next("snapshot");
  const publishUrl = (key?: string) => (key === undefined ? stream.rtmpUrl : `${stream.rtmpUrl}?key=${encodeURIComponent(key)}`);

  const refused = {
    wrong: await refusalOf(publishTestPattern(publishUrl("sk_not-the-key"))),
    missing: await refusalOf(publishTestPattern(publishUrl())),
    otherStreams: await refusalOf(publishTestPattern(publishUrl(other.streamKey))),
  };
  log.injected("ffmpeg publishing with a wrong key, with no key, and with another stream's key");
  for (const r of Object.values(refused)) expect(r).toMatchObject({ reason: "wrong stream key" });
  expect(ws.of("stream_start")).toEqual([]);
  expect(await status()).toBe("idle");
  log.checked("each refused with 'wrong stream key' (ffmpeg exits non-zero); the stream stays idle, no stream_start");

  const first = publishTestPattern(publishUrl(stream.streamKey));
  await ws.next("stream_start", 20_000);
  expect(await status()).toBe("live");
  const rotated = await call<{ streamKey: string }>("POST", `/v1/streams/${stream.id}/key`, { token: host.token });
  expect(rotated.status).toBe(200);
  const rotatedAt = Date.now();
  log.injected("the host rotated the key while ffmpeg was live with the old one");
  await ws.next("stream_end", 15_000);
  const endedAfterMs = Date.now() - rotatedAt;
  expect(await refusalOf(first)).toMatchObject({ reason: "the stream key was changed" });
  expect(await status()).toBe("ended");
  log.checked(`the live publisher was cut ${endedAfterMs} ms after the rotation: viewers got stream_end, the stream is ended, ffmpeg exited with 'the stream key was changed'`);

  const old = await refusalOf(publishTestPattern(publishUrl(stream.streamKey)));
  expect(old).toMatchObject({ reason: "wrong stream key" });
  const second = publishTestPattern(publishUrl(rotated.body.streamKey));
  await ws.next("stream_start", 20_000);
  expect(await status()).toBe("live");
  log.checked("the old key is refused afterwards; the new key goes live");

  // What viewers can read: the stream's APIs, the lists, the room's snapshot on both transports.
  const io = ioViewer(server.url, { streamId: stream.id, token: viewer.token });
  await io.snapshot();
  const viewerTexts = [
    JSON.stringify(await call("GET", `/v1/streams/${stream.id}`, { token: viewer.token })),
    JSON.stringify(await call("GET", `/api/live-stream/${stream.id}`)),
    JSON.stringify(await call("GET", "/v1/streams?status=live")),
    JSON.stringify(await call("GET", "/v1/streams")),
    JSON.stringify(ws.frames),
    JSON.stringify(io.got),
    JSON.stringify(await call("GET", "/v1/streams/mine", { token: host.token })),
  ];
  const secrets = [stream.streamKey, rotated.body.streamKey, other.streamKey];
  const hashes = secrets.map(sha256);
  for (const text of viewerTexts) for (const s of [...secrets, ...hashes]) expect(text.includes(s)).toBe(false);
  log.checked("no key and no key hash in GET /v1/streams/:id, /api/live-stream/:id, the live and full lists, the raw WS and socket.io frames, nor the host's own /v1/streams/mine");

  second.stop();
  await ws.next("stream_end", 15_000);
  const leaks = secretsIn(server.output(), [...secrets, ...hashes]);
  expect(leaks).toEqual([]);
  log.checked(`none of the 3 keys nor their hashes in the server's ${server.output().split("\n").length} log lines (LOG_LEVEL=debug)`);
  ws.close();
  io.close();
});
