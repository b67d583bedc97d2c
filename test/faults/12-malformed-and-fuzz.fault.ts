// Case 12: malformed input with known answers, then one minute of random bytes and hostile JSON on
// every surface at once (raw WebSocket, socket.io over WebSocket and long-polling, the HTTP API,
// bare TCP). The process stays up and answers with stable codes; no built-in prototype changes.
import { randomBytes, randomInt } from "node:crypto";
import { connect } from "node:net";
import { expect } from "vitest";
import { CLOSE_CODES, ERRORS } from "../../src/protocol/errors.js";
import { adminToken } from "../support/admin.js";
import { devSession, devStream, sleep, WsClient } from "../support/clients.js";
import { httpClient, testAddress } from "../support/http.js";
import { logRecords } from "../support/logs.js";
import { faultCase } from "./fault-case.js";
import { useCaseServer } from "./app-support/case-server.js";
import { chance, pick, pollutionPayloads, randomFrame, randomValue } from "./app-support/fuzz.js";
import { ioViewer, type IoMessage } from "./app-support/io-client.js";
import { pollingSession } from "./app-support/polling.js";
import { probePrototypes, prototypeChanges, prototypeProbeEnv } from "./app-support/prototypes.js";

/** The fuzz's whole length (every surface at once): one minute, in CI too. */
const FUZZ_MS = 60_000;
const KNOWN_CODES: ReadonlySet<unknown> = new Set(Object.keys(ERRORS));
const CLOSE: ReadonlySet<unknown> = new Set(Object.values(CLOSE_CODES).map((c) => c.code));
const weirdIds = ["x", "%00", "a".repeat(80), "..%2F..%2Fetc", "%F0%9F%98%80", "__proto__", "constructor", "1%20OR%201%3D1", "%25s%25s", "-"];
const weirdQueries = ["?page=-1", "?pageSize=1e9", "?q=%27%3B%20drop%20table%20orders%3B--", "?status=paid&status=shipped", "?page=abc", "?__proto__[admin]=1", "?constructor[prototype][x]=1", "?%00=%00", "?q=%ZZ"];
const contentTypes = ["application/json", "application/json; charset=utf-8", "text/plain", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", ""];

const ctx = useCaseServer(() => ({ ...prototypeProbeEnv(), COMMENT_RATE_PER_SEC: "50", COMMENT_BURST: "50" }));

faultCase(12, "malformed input and a 1-minute random-bytes fuzz", async (log) => {
  const { server, services } = ctx;
  const call = httpClient(server.url);
  const host = await devSession(server.url, "Host");
  const viewer = await devSession(server.url, "Viewer");
  const admin = await adminToken(services.databaseUrl);
  const streamId = await devStream(server.url, host.token);
  const url = `${server.ws}/live-stream/${streamId}/ws`;
  const baseline = await probePrototypes(server);
  const failures: string[] = [];

  // ---- Malformed input, each with its documented answer.
  const hostWs = await WsClient.connect(url, { token: host.token });
  const viewerWs = await WsClient.connect(url, { token: viewer.token });
  await Promise.all([hostWs.next("snapshot"), viewerWs.next("snapshot")]);
  const wsCases: [WsClient, string, string][] = [
    [hostWs, "{not json", "BAD_FRAME"],
    [hostWs, "[1,2,3]", "BAD_FRAME"],
    [hostWs, '{"type":42}', "BAD_FRAME"],
    [hostWs, '{"type":"teleport"}', "UNKNOWN_TYPE"],
    [hostWs, '{"type":"comment"}', "INVALID_PARAMS"],
    [hostWs, '{"type":"like","count":1000}', "INVALID_PARAMS"],
    [viewerWs, '{"type":"pin","text":"mine now","__proto__":{"role":"host"},"role":"host"}', "FORBIDDEN"],
    [viewerWs, '{"type":"slow_mode","seconds":60,"constructor":{"prototype":{"role":"host"}}}', "FORBIDDEN"],
  ];
  for (const [ws, frame] of wsCases) ws.send(frame);
  hostWs.ws.send(Buffer.from([1, 2, 3]), { binary: true });
  viewerWs.send('{"type":"comment","id":"v1","comment":{"content":"hi","__proto__":{"role":"host"}},"__proto__":{"role":"host"}}');
  await hostWs.until((f) => f.filter((x) => x.type === "error").length === 7, 10_000, "the host's error frames");
  await viewerWs.until((f) => f.filter((x) => x.type === "error").length === 2 && f.some((x) => x.id === "v1"), 10_000, "the viewer's replies");
  expect([...hostWs.of("error"), ...viewerWs.of("error")].map((e) => e.code)).toEqual([...wsCases.filter(([ws]) => ws === hostWs), [hostWs, "", "BAD_FRAME"], ...wsCases.filter(([ws]) => ws === viewerWs)].map(([, , code]) => code));
  const hi = await hostWs.next("comment");
  expect(hi.comment).toMatchObject({ content: "hi", role: "viewer", userId: viewer.userId });

  const bad = async (method: string, path: string, body: string, token?: string, contentType = "application/json") => {
    const res = await fetch(`${server.url}${path}`, { method, headers: { "content-type": contentType, ...(token ? { authorization: `Bearer ${token}` } : {}) }, body });
    return { status: res.status, code: ((await res.json().catch(() => ({}))) as { code?: string }).code };
  };
  expect(await bad("POST", "/v1/addresses", "{not json", viewer.token)).toEqual({ status: 400, code: "INVALID_PARAMS" });
  expect(await bad("POST", "/v1/addresses", "\u0000\u0001", viewer.token)).toEqual({ status: 400, code: "INVALID_PARAMS" });
  expect((await bad("PATCH", "/v1/me", '{"nickname":"Pwn","__proto__":{"role":"admin","admin":true},"role":"admin"}', viewer.token)).status).toBeLessThan(500);
  expect((await call<{ role: string }>("GET", "/v1/me", { token: viewer.token })).body.role).toBe("user");
  expect(await bad("POST", "/v1/admin/products", '{"__proto__":{"admin":true},"constructor":{"prototype":{"admin":true}}}', viewer.token)).toEqual({ status: 403, code: "FORBIDDEN" });
  const io = ioViewer(server.url, { streamId, token: viewer.token });
  await io.snapshot();
  expect(await io.command("comment", "just a string")).toMatchObject({ type: "error", code: "INVALID_PARAMS" });
  expect(await io.command("pin", JSON.parse('{"text":"x","__proto__":{"role":"host"}}'))).toMatchObject({ type: "error", code: "FORBIDDEN" });
  io.close();
  log.injected("malformed frames and bodies with known answers: not JSON, wrong shapes, unknown types, binary, __proto__ / constructor.prototype keys claiming a host or admin role (raw WS, socket.io, HTTP)");
  log.checked("each answered with its code (BAD_FRAME, UNKNOWN_TYPE, INVALID_PARAMS, FORBIDDEN); a viewer stays a viewer whatever its frame or body claims");
  for (const c of [hostWs, viewerWs]) c.close();

  // ---- One minute of random input on every surface at once.
  const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
  const routes = Object.entries(doc.paths)
    .flatMap(([path, ops]) => Object.keys(ops).map((method) => ({ path, method: method.toUpperCase() })))
    // Signing out would end the fuzzers' own sessions: every other route is fair game.
    .filter((r) => r.path !== "/v1/auth/logout");
  routes.push({ path: "/v1/pay/notify", method: "POST" }, { path: "/v1/pay/refund-notify", method: "POST" }, { path: "/sandbox/wechat/pay", method: "POST" });
  const deadline = Date.now() + FUZZ_MS;
  const stats = { wsFrames: 0, wsReconnects: 0, ioEvents: 0, pollingPosts: 0, http: 0, tcp: 0 };
  const closeCodes = new Map<number, number>();
  const codeSeen = (code: unknown, where: string) => {
    if (!KNOWN_CODES.has(code)) failures.push(`${where}: unknown code ${String(code)}`);
  };

  const wsFuzzer = async (token?: string) => {
    let c: WsClient | null = null;
    let n = 0;
    while (Date.now() < deadline) {
      if (!c || c.closeCode !== null) {
        if (c) {
          closeCodes.set(c.closeCode!, (closeCodes.get(c.closeCode!) ?? 0) + 1);
          if (!CLOSE.has(c.closeCode)) failures.push(`raw WS closed with undocumented ${c.closeCode}`);
          stats.wsReconnects++;
        }
        c = await WsClient.connect(url, token ? { token } : {});
        c.ws.on("error", () => {});
        await c.next("snapshot");
      }
      const live = c;
      for (let i = 0; i < 20 && live.closeCode === null; i++) {
        const f = randomFrame();
        live.ws.send(f.data, { binary: f.binary });
        stats.wsFrames++;
      }
      const id = `p${n++}`;
      if (live.closeCode === null) live.send({ type: "ping", id });
      await live.until((f) => live.closeCode !== null || f.some((x) => x.type === "pong" && x.id === id), 15_000, "a pong between bursts");
      for (const e of live.frames.splice(0).filter((x) => x.type === "error")) codeSeen(e.code, "raw WS");
    }
    c?.close();
  };

  const reservedEvents = new Set(["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"]);
  const ioFuzzer = async (token: string) => {
    while (Date.now() < deadline) {
      const s = ioViewer(server.url, { streamId, token });
      await s.snapshot();
      while (Date.now() < deadline && s.socket.connected) {
        let event = chance(0.7) ? pick(["comment", "like", "pin", "mute", "ping", "slow_mode", "product_highlight", "watch_group"]) : randomBytes(randomInt(1, 12)).toString("latin1");
        if (reservedEvents.has(event)) event = "x";
        const args = chance(0.2) ? [pick(pollutionPayloads)] : Array.from({ length: randomInt(3) }, () => (chance(0.1) ? randomBytes(randomInt(64)) : randomValue()));
        stats.ioEvents++;
        if (chance(0.5)) {
          const reply = await Promise.race([new Promise<IoMessage>((r) => s.socket.emit(event, ...args, r)), sleep(1000).then(() => null)]);
          if (reply && typeof reply === "object" && reply.type === "error") codeSeen(reply.code, `socket.io ${event}`);
        } else s.socket.emit(event, ...args);
      }
      s.close();
    }
  };

  const pollingFuzzer = async () => {
    while (Date.now() < deadline) {
      const p = await pollingSession(server.url, { streamId });
      for (let i = 0; i < 20 && Date.now() < deadline; i++) {
        const body = chance(0.5) ? randomBytes(randomInt(1, 500)) : `42${JSON.stringify([pick(["comment", "like", "ping"]), randomValue()])}`;
        stats.pollingPosts++;
        const status = await p.post(body);
        if (status >= 500) failures.push(`polling POST → ${status}`);
        if (status !== 200) break;
        await sleep(20);
      }
    }
  };

  const httpFuzzer = async () => {
    const tokens = [admin, viewer.token, host.token, undefined, "x".repeat(43)];
    while (Date.now() < deadline) {
      const r = pick(routes);
      const path = r.path.replace(/\{[^}]+\}/g, () => (chance(0.2) ? streamId : pick(weirdIds)));
      const method = chance(0.9) ? r.method : pick(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);
      const hasBody = method !== "GET" && method !== "DELETE" && method !== "OPTIONS";
      const body = !hasBody ? undefined : chance(0.3) ? randomBytes(randomInt(0, 2000)) : JSON.stringify(chance(0.3) ? pick(pollutionPayloads) : randomValue());
      const token = pick(tokens);
      const headers: Record<string, string> = { "content-type": pick(contentTypes) };
      if (token) headers.authorization = `Bearer ${token}`;
      if (chance(0.3)) headers["idempotency-key"] = chance(0.5) ? randomBytes(8).toString("hex") : randomBytes(100).toString("base64");
      if (chance(0.1)) headers["wechatpay-timestamp"] = String(randomInt(2 ** 40));
      try {
        const res = await fetch(`${server.url}${path}${chance(0.3) ? pick(weirdQueries) : ""}`, { method, headers, body, signal: AbortSignal.timeout(15_000) });
        const text = await res.text();
        stats.http++;
        if (res.status >= 500) failures.push(`${method} ${path} → ${res.status} ${text.slice(0, 160)}`);
        else if (res.status >= 400 && text && !r.path.startsWith("/v1/pay/") && !r.path.startsWith("/sandbox/")) {
          const code = (JSON.parse(text) as { code?: string }).code;
          codeSeen(code, `${method} ${path} ${res.status}`);
        }
      } catch (err) {
        failures.push(`${method} ${path}: no answer (${String((err as { cause?: unknown }).cause ?? err)})`);
      }
    }
  };

  const tcpFuzzer = async () => {
    while (Date.now() < deadline) {
      const junk = pick([
        () => randomBytes(randomInt(1, 2000)),
        () => Buffer.from(`${pick(["GET", "POST", "\u0000", "BREW"])} /${randomBytes(randomInt(40)).toString("latin1")} HTTP/1.1\r\nHost: x\r\n${randomBytes(randomInt(100)).toString("latin1")}\r\n\r\n`, "latin1"),
        () => Buffer.from(`GET /live-stream/${streamId}/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(randomInt(30)).toString("base64")}\r\nSec-WebSocket-Version: ${randomInt(20)}\r\n\r\n`),
        () => Buffer.from(`POST /v1/orders HTTP/1.1\r\nHost: x\r\nContent-Length: ${pick(["-1", "99999999999", "abc", "10"])}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n`),
      ])();
      await new Promise<void>((resolve) => {
        const s = connect(server.port, "127.0.0.1");
        const done = () => {
          s.destroy();
          resolve();
        };
        s.on("error", done);
        s.on("close", done);
        s.on("data", () => {});
        s.write(junk);
        setTimeout(done, 200);
      });
      stats.tcp++;
    }
  };

  await Promise.all([wsFuzzer(host.token), wsFuzzer(viewer.token), wsFuzzer(), ioFuzzer(viewer.token), ioFuzzer(host.token), pollingFuzzer(), httpFuzzer(), httpFuzzer(), tcpFuzzer()]);
  log.injected(
    `${FUZZ_MS / 1000} s of random input at once: ${stats.wsFrames} raw WS frames (${stats.wsReconnects} reconnects after closes ${JSON.stringify(Object.fromEntries(closeCodes))}), ` +
      `${stats.ioEvents} socket.io events, ${stats.pollingPosts} long-polling POSTs, ${stats.http} HTTP requests on ${routes.length} routes, ${stats.tcp} bare TCP connections of junk`,
  );

  expect(server.exitCode()).toBeNull();
  expect(failures.slice(0, 20)).toEqual([]);
  log.checked("the process stayed up; no 5xx, every error had a documented code and every close a documented close code");

  const after = await probePrototypes(server);
  expect(prototypeChanges(baseline, after)).toEqual([]);
  log.checked(`no prototype pollution: Object, Array, Function, String and Number prototypes hold the same ${Object.values(after.own).flat().length} properties, {} inherits nothing new`);

  expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
  const late = await WsClient.connect(url);
  await late.next("snapshot");
  const hostAgain = await WsClient.connect(url, { token: host.token });
  await hostAgain.next("snapshot");
  hostAgain.send({ type: "slow_mode", seconds: 0 });
  hostAgain.send({ type: "comment", comment: { content: "after the storm" } });
  await late.until((f) => f.some((x) => x.type === "comment" && (x.comment as { content: string }).content === "after the storm"), 10_000, "a comment after the fuzz");
  const addr = await call("POST", "/v1/addresses", { token: viewer.token, body: testAddress });
  expect(addr.status).toBe(201);
  const errors = logRecords(server.output()).filter((r) => typeof r.level === "number" && r.level >= 50);
  expect(errors.slice(0, 5)).toEqual([]);
  log.checked("afterwards /readyz 200, a new viewer joins and gets the host's comment, an address is saved; no error or fatal line in the server's log");
  for (const c of [late, hostAgain]) c.close();
}, 240_000);
