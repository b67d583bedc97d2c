// Case 10: one user floods a room from three sockets at once (two raw WebSockets and the console's
// socket.io). The user's comment limit holds across all three; everyone else is unaffected.
import { expect } from "vitest";
import { devSession, devStream, sleep, WsClient } from "../support/clients.js";
import { faultCase } from "./fault-case.js";
import { metric, useCaseServer } from "./app-support/case-server.js";
import { ioViewer, type IoMessage } from "./app-support/io-client.js";

const RATE = 2;
const BURST = 5;
const PER_SOCKET = 100;

const ctx = useCaseServer({ COMMENT_RATE_PER_SEC: String(RATE), COMMENT_BURST: String(BURST) });

const contents = (c: WsClient) => c.of("comment").map((f) => f.comment as { content: string; userId: string });

faultCase(10, "comment flood from one user on 3 sockets", async (log) => {
  const { server } = ctx;
  const host = await devSession(server.url, "Host");
  const flooder = await devSession(server.url, "Flood");
  const calm = await devSession(server.url, "Calm");
  const streamId = await devStream(server.url, host.token);
  const url = `${server.ws}/live-stream/${streamId}/ws`;
  const raws = await Promise.all([WsClient.connect(url, { token: flooder.token }), WsClient.connect(url, { token: flooder.token })]);
  const io = ioViewer(server.url, { streamId, token: flooder.token });
  const calmWs = await WsClient.connect(url, { token: calm.token });
  const watcher = await WsClient.connect(url);
  await Promise.all([...raws.map((r) => r.next("snapshot")), io.snapshot(), calmWs.next("snapshot"), watcher.next("snapshot")]);
  const droppedBefore = await metric(server.url, "pinlive_dropped_total");

  const started = Date.now();
  const ioReplies: Promise<IoMessage>[] = [];
  for (let i = 0; i < PER_SOCKET; i++) {
    raws[0].send({ type: "comment", id: `a${i}`, comment: { content: `flood a${i}` } });
    raws[1].send({ type: "comment", id: `b${i}`, comment: { content: `flood b${i}` } });
    ioReplies.push(io.command("comment", { id: `c${i}`, comment: { content: `flood c${i}` } }));
    if (i === PER_SOCKET / 2) calmWs.send({ type: "comment", id: "calm", comment: { content: "a real question" } });
    await sleep(10);
  }
  const elapsedSec = (Date.now() - started) / 1000;
  log.injected(`one user sent ${3 * PER_SOCKET} comments in ${elapsedSec.toFixed(1)} s from 2 raw WebSockets and 1 socket.io connection (limit ${RATE}/s, burst ${BURST})`);

  for (const r of raws) await r.until((f) => f.filter((x) => x.type === "ack" || x.type === "error").length === PER_SOCKET, 10_000, "a reply to every comment");
  const replies = [...raws.flatMap((r) => r.frames.filter((f) => f.type === "ack" || f.type === "error")), ...(await Promise.all(ioReplies))];
  expect(replies).toHaveLength(3 * PER_SOCKET);
  const acks = replies.filter((r) => r.type === "ack").length;
  const codes = new Set(replies.filter((r) => r.type === "error").map((r) => r.code));
  expect(acks).toBeGreaterThanOrEqual(BURST);
  expect(acks).toBeLessThanOrEqual(BURST + Math.ceil(RATE * elapsedSec) + 1);
  expect([...codes]).toEqual(["RATE_LIMITED"]);
  log.checked(`${acks} of ${3 * PER_SOCKET} accepted across the three sockets (≤ burst + rate × time), every other one answered RATE_LIMITED`);

  await calmWs.until((f) => f.some((x) => x.type === "ack" && x.id === "calm"), 10_000, "the calm user's ack");
  await watcher.until((f) => f.filter((x) => x.type === "comment").length === acks + 1, 10_000, "the accepted comments");
  await sleep(300);
  const seen = contents(watcher);
  expect(seen.filter((c) => c.userId === flooder.userId)).toHaveLength(acks);
  expect(seen.filter((c) => c.userId === calm.userId).map((c) => c.content)).toEqual(["a real question"]);
  log.checked(`the room saw exactly the ${acks} accepted flood comments and the other user's comment, nothing more`);

  expect((await metric(server.url, "pinlive_dropped_total")) - droppedBefore).toBeGreaterThanOrEqual(3 * PER_SOCKET - acks);
  expect([...raws.map((r) => r.closeCode), io.socket.connected]).toEqual([null, null, true]);
  log.checked("the refusals are counted in pinlive_dropped_total; the flooder's sockets stay open (limited, not cut)");
  for (const c of [...raws, calmWs, watcher]) c.close();
  io.close();
});
