// Case 13: who may open a live socket, on both transports. Missing, expired, forged and revoked
// tokens, another host's token dressed up as this room's host, and a foreign Origin.
import { createHash } from "node:crypto";
import postgres from "postgres";
import { expect } from "vitest";
import { CLOSE_CODES } from "../../src/protocol/errors.js";
import { devSession, devStream, WsClient } from "../support/clients.js";
import { httpClient } from "../support/http.js";
import { wechatUser } from "../support/wechat.js";
import { faultCase } from "./fault-case.js";
import { useCaseServer } from "./app-support/case-server.js";
import { ioViewer } from "./app-support/io-client.js";

const CONSOLE_ORIGIN = "https://console.pinlive.test";
const ctx = useCaseServer({ ALLOWED_ORIGINS: CONSOLE_ORIGIN });

/** The HTTP status and body code of a refused upgrade; null when it opened. */
async function refusal(url: string, opts: { token?: string; headers?: Record<string, string> } = {}) {
  try {
    (await WsClient.connect(url, opts)).close();
    return null;
  } catch (err) {
    const e = err as { status?: number; body?: string };
    return { status: e.status, code: (JSON.parse(e.body ?? "{}") as { code?: string }).code };
  }
}

/** The socket.io handshake's refusal code; null when it connected. */
async function ioRefusal(url: string, auth: Record<string, unknown>, headers?: Record<string, string>) {
  const io = ioViewer(url, auth, headers);
  try {
    await io.handshake();
    return null;
  } catch (err) {
    return (err as { code?: string }).code ?? "refused";
  } finally {
    io.close();
  }
}

faultCase(13, "upgrade auth", async (log) => {
  const { server, services } = ctx;
  const call = httpClient(server.url);
  const sql = postgres(services.databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const host = await devSession(server.url, "Host");
    const otherHost = await devSession(server.url, "Other host");
    const streamId = await devStream(server.url, host.token);
    await devStream(server.url, otherHost.token, "the other host's room");
    const url = `${server.ws}/live-stream/${streamId}/ws`;
    const hostWs = await WsClient.connect(url, { token: host.token });
    await hostWs.next("snapshot");

    const expired = await wechatUser(call, "Expired");
    await sql`update sessions set expires_at = now() - interval '1 second' where token_hash = ${createHash("sha256").update(expired.token).digest("hex")}`;
    const valid = await wechatUser(call, "Valid");
    const flipped = valid.token.slice(0, -1) + (valid.token.endsWith("A") ? "B" : "A");
    const forged = "f".repeat(valid.token.length);
    log.injected("upgrades with an expired token, a forged one, a real one with a character changed, a 3-character one (header and ?token=)");
    const refused = {
      expired: await refusal(url, { token: expired.token }),
      expiredQuery: await refusal(`${url}?token=${expired.token}`),
      forged: await refusal(url, { token: forged }),
      flipped: await refusal(url, { token: flipped }),
      short: await refusal(`${url}?token=abc`),
    };
    const auth401 = { status: 401, code: "AUTH_FAILED" };
    expect(refused).toEqual({ expired: auth401, expiredQuery: auth401, forged: auth401, flipped: auth401, short: auth401 });
    const ioRefused = {
      expired: await ioRefusal(server.url, { streamId, token: expired.token }),
      forged: await ioRefusal(server.url, { streamId, token: forged }),
    };
    expect(ioRefused).toEqual({ expired: "AUTH_FAILED", forged: "AUTH_FAILED" });
    log.checked("raw WS: 401 AUTH_FAILED before the socket opens for each; socket.io: the handshake refused with AUTH_FAILED");

    // No token: a read-only viewer.
    const anonymous = await WsClient.connect(url);
    expect(await anonymous.next("snapshot")).toMatchObject({ you: { userId: null, role: null } });
    anonymous.send({ type: "comment", id: "a", comment: { content: "hello?" } });
    expect(await anonymous.next("error")).toMatchObject({ code: "AUTH_REQUIRED", id: "a" });
    log.injected("an upgrade with no token, which then comments");
    log.checked("it watches as an anonymous viewer; its comment gets AUTH_REQUIRED");

    // Another room's host, claiming to be this room's host in the query and the handshake.
    const claims = `userId=${host.userId}&role=host&hostId=${host.userId}`;
    const impostor = await WsClient.connect(`${url}?${claims}`, { token: otherHost.token });
    expect(await impostor.next("snapshot")).toMatchObject({ you: { userId: otherHost.userId, role: "viewer" } });
    impostor.send({ type: "stream_end", id: "e" });
    impostor.send({ type: "pin", id: "p", text: "I run this room now" });
    await impostor.until((f) => f.filter((x) => x.type === "error").length === 2, 10_000, "two refusals");
    expect(impostor.of("error").map((e) => e.code)).toEqual(["FORBIDDEN", "FORBIDDEN"]);
    const ioImpostor = ioViewer(server.url, { streamId, token: otherHost.token, userId: host.userId, role: "host" });
    await ioImpostor.snapshot();
    expect(ioImpostor.got[0]).toMatchObject({ you: { userId: otherHost.userId, role: "viewer" } });
    expect(await ioImpostor.command("slow_mode", { seconds: 60 })).toMatchObject({ type: "error", code: "FORBIDDEN" });
    ioImpostor.close();
    log.injected("another room's host's valid token, with userId/role claims of this room's host in the query and the socket.io auth");
    log.checked("the server's records decide: it is that other user, a viewer here, and its host commands get FORBIDDEN on both transports");

    // A foreign Origin, on both transports; no Origin (a native client) is fine.
    const evil = { origin: "https://evil.example" };
    expect(await refusal(url, { token: valid.token, headers: evil })).toEqual({ status: 403, code: "ORIGIN_NOT_ALLOWED" });
    expect(await ioRefusal(server.url, { streamId, token: valid.token }, evil)).not.toBeNull();
    expect(await refusal(url, { token: valid.token, headers: { origin: CONSOLE_ORIGIN } })).toBeNull();
    expect(await ioRefusal(server.url, { streamId, token: valid.token }, { origin: CONSOLE_ORIGIN })).toBeNull();
    log.injected("a valid token from a foreign Origin (raw WS and socket.io)");
    log.checked("403 ORIGIN_NOT_ALLOWED on raw WS, socket.io's handshake refused; the console's own Origin is accepted");

    // A session revoked while its socket was away: recovering with its last position is refused.
    const viewerWs = await WsClient.connect(url, { token: valid.token });
    const snap = await viewerWs.next("snapshot");
    for (let i = 0; i < 3; i++) hostWs.send({ type: "comment", comment: { content: `before ${i}` } });
    await viewerWs.until((f) => f.filter((x) => x.type === "comment").length === 3, 10_000, "3 comments");
    const last = viewerWs.of("comment").at(-1)!.seq as number;
    expect((await call("POST", "/v1/auth/logout", { token: valid.token })).status).toBe(204);
    expect(await viewerWs.closed).toBe(CLOSE_CODES.SESSION_ENDED.code);
    for (let i = 0; i < 2; i++) hostWs.send({ type: "comment", comment: { content: `missed ${i}` } });
    await hostWs.until((f) => f.filter((x) => x.type === "comment").length === 5, 10_000, "5 comments");
    const position = `epoch=${String(snap.epoch)}&seq=${last}`;
    log.injected("a viewer signs out (its socket closes 4501), then reconnects with its last position and the revoked token (header, ?token=, socket.io)");
    expect(await refusal(`${url}?${position}`, { token: valid.token })).toEqual(auth401);
    expect(await refusal(`${url}?${position}&token=${valid.token}`)).toEqual(auth401);
    expect(await ioRefusal(server.url, { streamId, token: valid.token, epoch: snap.epoch, seq: last })).toBe("AUTH_FAILED");
    const anonymousBack = await WsClient.connect(`${url}?${position}`);
    expect(await anonymousBack.next("snapshot")).toMatchObject({ recovered: true, you: { userId: null } });
    await anonymousBack.until((f) => f.filter((x) => x.type === "comment").length === 2, 10_000, "the missed comments");
    log.checked("each recovery with the revoked token gets AUTH_FAILED; the same position without a token recovers the 2 missed comments as an anonymous viewer");
    for (const c of [hostWs, anonymous, impostor, anonymousBack]) c.close();
  } finally {
    await sql.end();
  }
});
