// Acceptance 6: bad input gets error frames or a documented close code; the process never falls over.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLOSE_CODES } from "../src/protocol/errors.js";
import { useTestServices } from "./support/services.js";
import { spawnServer, type SpawnedServer } from "./support/servers.js";
import { devSession, devStream, sleep, WsClient } from "./support/clients.js";

describe("bad input on the live socket", () => {
  let server: SpawnedServer;
  let url: string;
  let hostToken: string;
  const services = useTestServices();

  beforeAll(async () => {
    server = await spawnServer(services.databaseUrl, services.redisPrefix, { COMMENT_RATE_PER_SEC: "2", COMMENT_BURST: "5", WS_MAX_PAYLOAD_BYTES: "4096" });
    const host = await devSession(server.url, "Host");
    hostToken = host.token;
    url = `${server.ws}/live-stream/${await devStream(server.url, host.token)}/ws`;
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("holds a 100 comments/s sender to its rate with error frames while the room carries on", async () => {
    const spammer = await devSession(server.url, "Spam");
    const calm = await devSession(server.url, "Calm");
    const spamWs = await WsClient.connect(url, { token: spammer.token });
    const calmWs = await WsClient.connect(url, { token: calm.token });
    const watcher = await WsClient.connect(url);
    await watcher.next("snapshot");

    const started = Date.now();
    for (let i = 0; i < 200; i++) {
      spamWs.send({ type: "comment", id: `s${i}`, comment: { content: `spam ${i}` } });
      if (i === 100) calmWs.send({ type: "comment", id: "calm", comment: { content: "a real question" } });
      await sleep(10);
    }
    const elapsedSec = (Date.now() - started) / 1000;
    await spamWs.until((f) => f.filter((x) => x.type === "ack" || x.type === "error").length === 200, 10_000, "200 replies");
    const acks = spamWs.of("ack").length;
    const errors = spamWs.of("error");
    expect(acks).toBeGreaterThanOrEqual(5);
    expect(acks).toBeLessThanOrEqual(5 + Math.ceil(2 * elapsedSec) + 1);
    expect(errors.length).toBe(200 - acks);
    expect(new Set(errors.map((e) => e.code))).toEqual(new Set(["RATE_LIMITED"]));

    await calmWs.until((f) => f.some((x) => x.type === "ack" && x.id === "calm"), 10_000, "calm ack");
    await watcher.until((f) => f.some((x) => x.type === "comment" && (x.comment as { content: string }).content === "a real question"), 10_000, "calm comment");
    await watcher.until((f) => f.filter((x) => x.type === "comment").length === acks + 1, 10_000, "accepted comments");
    for (const c of [spamWs, calmWs, watcher]) c.close();
  });

  it("closes only the socket that sends an oversized or non-UTF-8 frame, with the documented code", async () => {
    const big = await WsClient.connect(url);
    const bystander = await WsClient.connect(url);
    await bystander.next("snapshot");
    big.send(JSON.stringify({ type: "comment", comment: { content: "x".repeat(10_000) } }));
    expect(await big.closed).toBe(CLOSE_CODES.MESSAGE_TOO_BIG.code);
    const garbled = await WsClient.connect(url);
    garbled.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    expect(await garbled.closed).toBe(CLOSE_CODES.INVALID_UTF8.code);
    bystander.send({ type: "ping", id: "still-here" });
    expect(await bystander.next("pong")).toMatchObject({ id: "still-here" });
    bystander.close();
  });

  it("answers malformed JSON, unknown types, wrong field types and binary frames with error frames", async () => {
    const ws = await WsClient.connect(url, { token: hostToken });
    await ws.next("snapshot");
    const cases: [unknown, string][] = [
      ["{not json", "BAD_FRAME"],
      ["[1,2,3]", "BAD_FRAME"],
      ['"just a string"', "BAD_FRAME"],
      [{ noType: true }, "BAD_FRAME"],
      [{ type: 42 }, "BAD_FRAME"],
      [{ type: "teleport" }, "UNKNOWN_TYPE"],
      [{ type: "comment" }, "INVALID_PARAMS"],
      [{ type: "comment", comment: { content: 7 } }, "INVALID_PARAMS"],
      [{ type: "like", count: "many" }, "INVALID_PARAMS"],
      [{ type: "like", count: 1000 }, "INVALID_PARAMS"],
      [{ type: "product_highlight", productId: "has:colon" }, "INVALID_PARAMS"],
      [{ type: "slow_mode", seconds: -1 }, "INVALID_PARAMS"],
      [{ type: "comment", comment: { content: "   \u0000\u200b  " } }, "EMPTY_COMMENT"],
      [{ type: "comment", comment: { content: "y".repeat(201) } }, "COMMENT_TOO_LONG"],
    ];
    for (const [frame] of cases) ws.send(frame);
    ws.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    await ws.until((f) => f.filter((x) => x.type === "error").length === cases.length + 1, 10_000, "error frames");
    expect(ws.of("error").map((e) => e.code)).toEqual([...cases.map(([, code]) => code), "BAD_FRAME"]);
    ws.close();
  });

  it("stays up and serving after 10,000 random frames", async () => {
    const fuzzers = await Promise.all(Array.from({ length: 4 }, () => WsClient.connect(url, { token: hostToken })));
    const valid = [{ type: "comment", comment: { content: "ok" } }, { type: "like" }, { type: "ping" }, { type: "pin", text: "hi" }];
    const randomValue = (depth = 0): unknown => {
      const pick = Math.floor(Math.random() * (depth > 2 ? 5 : 7));
      if (pick === 0) return Math.random() * 1e9 - 5e8;
      if (pick === 1) return randomBytes(Math.floor(Math.random() * 40)).toString("latin1");
      if (pick === 2) return null;
      if (pick === 3) return Math.random() < 0.5;
      if (pick === 4) return "\u0000\ud83d\ude00" + "a".repeat(Math.floor(Math.random() * 300));
      if (pick === 5) return Array.from({ length: Math.floor(Math.random() * 4) }, () => randomValue(depth + 1));
      return Object.fromEntries(Array.from({ length: Math.floor(Math.random() * 4) }, (_, i) => [`k${i}`, randomValue(depth + 1)]));
    };
    for (let i = 0; i < 10_000; i++) {
      const ws = fuzzers[i % 4]!;
      const r = Math.random();
      if (r < 0.3) ws.send(randomBytes(1 + Math.floor(Math.random() * 200)).toString("base64"));
      else if (r < 0.6) ws.send(JSON.stringify(randomValue()));
      else {
        const base = { ...valid[i % valid.length]! } as Record<string, unknown>;
        base[Object.keys(base)[Math.floor(Math.random() * Object.keys(base).length)]!] = randomValue();
        ws.send(base);
      }
    }
    const replies = () => fuzzers.reduce((n, c) => n + c.frames.filter((f) => f.type === "error" || f.type === "ack" || f.type === "pong").length, 0);
    const deadline = Date.now() + 30_000;
    while (replies() < 9_000 && Date.now() < deadline) await sleep(100);
    expect(replies()).toBeGreaterThan(9_000);

    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    const viewer = await WsClient.connect(url);
    await viewer.next("snapshot");
    const host = await WsClient.connect(url, { token: hostToken });
    host.send({ type: "comment", comment: { content: "after the storm" } });
    await viewer.until((f) => f.some((x) => x.type === "comment" && (x.comment as { content: string }).content === "after the storm"), 10_000, "comment");
    for (const c of [...fuzzers, viewer, host]) c.close();
    await sleep(200);
    expect(server.output()).not.toMatch(/"level":(50|60)/);
  });
});
