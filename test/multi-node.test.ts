// Acceptance 2: two server processes on one Redis share a room.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestServices } from "./support/services.js";
import { spawnServer, type SpawnedServer } from "./support/servers.js";
import { devSession, devStream, WsClient, type Frame } from "./support/clients.js";

const VIEWERS = 200;
const COMMENTS = 30;

const lastCount = (c: WsClient) => (c.of("viewer_count").at(-1)?.count as number | undefined) ?? -1;

describe("two nodes, one room", () => {
  let a: SpawnedServer;
  let b: SpawnedServer;
  const services = useTestServices();

  beforeAll(async () => {
    const env = { COUNTS_INTERVAL_MS: "250" };
    [a, b] = await Promise.all([spawnServer(services.databaseUrl, services.redisPrefix, env), spawnServer(services.databaseUrl, services.redisPrefix, env)]);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it("delivers node A's comments to all 200 viewers on both nodes once, in order; counts converge", async () => {
    const host = await devSession(a.url, "Host");
    const fan = await devSession(a.url, "Fan");
    const streamId = await devStream(a.url, host.token);
    const path = `/live-stream/${streamId}/ws`;

    const viewers: WsClient[] = [];
    for (let i = 0; i < VIEWERS; i += 20) {
      const batch = await Promise.all(
        Array.from({ length: 20 }, (_, j) => WsClient.connect(`${(i + j) % 2 === 0 ? a.ws : b.ws}${path}`)),
      );
      viewers.push(...batch);
    }
    await Promise.all(viewers.map((v) => v.until((f) => f.some((x) => x.type === "snapshot"), 10_000, "snapshot")));
    await Promise.all(viewers.map((v) => v.until(() => lastCount(v) === VIEWERS, 15_000, `viewer_count ${VIEWERS}`)));

    const hostWs = await WsClient.connect(`${a.ws}${path}`, { token: host.token });
    const fanWs = await WsClient.connect(`${a.ws}${path}`, { token: fan.token });
    const sent: string[] = [];
    for (let i = 0; i < COMMENTS; i++) {
      const content = `message ${i}`;
      sent.push(content);
      // A viewer's comment now and then (within its rate limit), the host's otherwise.
      (i % 10 === 0 ? fanWs : hostWs).send({ type: "comment", comment: { content } });
    }

    const commentsOf = (v: WsClient) => v.frames.filter((f: Frame) => f.type === "comment");
    await Promise.all(viewers.map((v) => v.until(() => commentsOf(v).length >= COMMENTS, 15_000, "all comments")));
    // The room's order: the same for everyone, gap-free seqs, each sender's comments in its send order.
    const contents = (v: WsClient) => commentsOf(v).map((f) => (f.comment as { content: string }).content);
    const reference = contents(viewers[0]!);
    expect([...reference].sort()).toEqual([...sent].sort());
    const bySender = (list: string[], fromFan: boolean) => list.filter((c) => (Number(c.split(" ")[1]) % 10 === 0) === fromFan);
    expect(bySender(reference, true)).toEqual(bySender(sent, true));
    expect(bySender(reference, false)).toEqual(bySender(sent, false));
    for (const v of viewers) {
      expect(contents(v)).toEqual(reference);
      const seqs = commentsOf(v).map((f) => f.seq as number);
      expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
    }

    hostWs.close();
    fanWs.close();
    const leaving = viewers.splice(0, 50);
    for (const v of leaving) v.close();
    await Promise.all(viewers.map((v) => v.until(() => lastCount(v) === VIEWERS - 50, 15_000, "viewer_count 150")));
    const onA = viewers.filter((_, i) => i % 2 === 0);
    expect(onA.length).toBeGreaterThan(0);
    expect(viewers.every((v) => lastCount(v) === 150)).toBe(true);
    for (const v of viewers) v.close();
  });
});
