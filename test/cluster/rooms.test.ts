// Three pinlive nodes on a Redis Cluster share rooms: one room with viewers on every node, many rooms
// over the three shards, and a node killed with kill -9 whose viewers move to the others.
import { io as ioClient, type Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisKeys } from "../../src/redis/keys.js";
import { devSession, devStream, WsClient, waitFor } from "../support/clients.js";
import type { SpawnedServer } from "../support/servers.js";
import { useTestServices } from "../support/services.js";
import { useRedisCluster } from "./support/cluster.js";
import { startNode, startNodes } from "./support/nodes.js";
import { checkOrder, RoomViewer } from "./support/viewer.js";

const all = <T>(items: T[], f: (x: T) => Promise<unknown>) => Promise.all(items.map(f));

describe("three nodes on a Redis Cluster", () => {
  const local = useRedisCluster();
  const services = useTestServices();
  let nodes: SpawnedServer[];
  const wsUrls = () => nodes.map((n) => n.ws);

  beforeAll(async () => {
    nodes = await startNodes(local.cluster, services, 3, { COUNTS_INTERVAL_MS: "250" });
  }, 120_000);
  afterAll(async () => {
    await all(nodes ?? [], (n) => n.stop());
  });

  async function room(node = 0) {
    const host = await devSession(nodes[node]!.url, "Host");
    const streamId = await devStream(nodes[node]!.url, host.token);
    return { host, streamId, path: `/live-stream/${streamId}/ws` };
  }

  async function viewers(path: string, perNode: number) {
    const list = Array.from({ length: perNode * nodes.length }, (_, i) => new RoomViewer(wsUrls, path, i % nodes.length));
    for (let i = 0; i < list.length; i += 30) await all(list.slice(i, i + 30), (v) => v.connect());
    return list;
  }


  it("one room with viewers on all three: the same events once, in order, gap-free; counts converge; host commands from any node reach all", async () => {
    const r = await room();
    const watchers = await viewers(r.path, 20);
    // The host console on every node (socket.io over the sharded adapter).
    const consoles: { socket: Socket; comments: string[] }[] = nodes.map((n) => {
      const socket = ioClient(n.url, { transports: ["websocket"], auth: { streamId: r.streamId }, reconnection: false });
      const c = { socket, comments: [] as string[] };
      socket.on("comment", (m: { comment: { content: string } }) => c.comments.push(m.comment.content));
      return c;
    });
    await all(consoles, (c) => new Promise((resolve) => c.socket.once("snapshot", resolve)));
    // The host on every node.
    const hosts = await Promise.all(nodes.map((n) => WsClient.connect(`${n.ws}${r.path}`, { token: r.host.token })));
    await all(hosts, (h) => h.next("snapshot"));
    // Viewer counts count people: the host, on all three nodes, is one.
    const total = watchers.length + consoles.length + 1;
    await waitFor(() => watchers.every((v) => v.lastCount("viewer_count") === total), `every viewer counts ${total}`, 30_000);

    const sent: string[][] = hosts.map(() => []);
    for (let i = 0; i < 10; i++) {
      hosts.forEach((h, n) => {
        const content = `node${n}-${i}`;
        sent[n]!.push(content);
        h.send({ type: "comment", id: content, comment: { content } });
      });
    }
    hosts[2]!.send({ type: "pin", text: "pinned on node 2" });
    hosts[1]!.send({ type: "slow_mode", seconds: 7 });
    await waitFor(() => watchers.every((v) => v.contents().length >= 30), "30 comments everywhere", 30_000);
    await waitFor(() => consoles.every((c) => c.comments.length >= 30), "30 comments on every console", 30_000);
    await waitFor(
      () => watchers.every((v) => v.pushes.some((p) => p.type === "pinned" && (p.pin as { text: string } | null)?.text === "pinned on node 2") && v.pushes.some((p) => p.type === "slow_mode" && p.seconds === 7)),
      "the pin from node 2 and slow mode from node 1 everywhere",
      30_000,
    );

    const reference = watchers[0]!.contents();
    expect([...reference].sort()).toEqual(sent.flat().sort());
    // Each node's host comments keep their send order inside the room's one order.
    for (const [n, mine] of sent.entries()) expect(reference.filter((c) => c!.startsWith(`node${n}-`))).toEqual(mine);
    for (const v of watchers) {
      expect(v.contents()).toEqual(reference);
      expect(checkOrder(v)).toEqual([]);
      expect(v.duplicates).toBe(0);
      expect(v.delivered.map((d) => d.seq)).toEqual(reference.map((_, i) => i + 1));
    }
    for (const c of consoles) expect(c.comments).toEqual(reference);

    // Counts converge after viewers leave on every node.
    const leaving = watchers.splice(0, 15);
    for (const v of leaving) v.close();
    await waitFor(() => watchers.every((v) => v.lastCount("viewer_count") === total - 15), `every viewer counts ${total - 15}`, 30_000);
    for (const v of watchers) v.close();
    for (const h of hosts) h.close();
    for (const c of consoles) c.socket.close();
  });

  it("many rooms over the three shards: each room's order holds, each on its own sequence", async () => {
    const keys = redisKeys(services.redisPrefix);
    // Rooms until every master owns three of them.
    const byMaster = new Map<number, { streamId: string; path: string; host: { token: string } }[]>();
    for (let made = 0; [...byMaster.values()].filter((l) => l.length >= 3).length < 3; made++) {
      if (made > 60) throw new Error("rooms did not spread over the masters");
      const r = await room(made % 3);
      const master = await local.cluster.masterOf(keys.room.channel(r.streamId));
      const list = byMaster.get(master) ?? [];
      if (list.length < 3) list.push(r);
      byMaster.set(master, list);
    }
    const rooms = [...byMaster.values()].flat();
    expect(byMaster.size).toBe(3);

    const perRoom = await Promise.all(rooms.map(async (r, i) => ({ r, host: await WsClient.connect(`${nodes[i % 3]!.ws}${r.path}`, { token: r.host.token }), watchers: await viewers(r.path, 2) })));
    await all(perRoom, (p) => p.host.next("snapshot"));
    const COMMENTS = 15;
    for (let i = 0; i < COMMENTS; i++) for (const [n, p] of perRoom.entries()) p.host.send({ type: "comment", comment: { content: `room${n}-${i}` } });
    await waitFor(() => perRoom.every((p) => p.watchers.every((v) => v.contents().length >= COMMENTS)), "every room's comments everywhere", 30_000);
    for (const [n, p] of perRoom.entries()) {
      const expected = Array.from({ length: COMMENTS }, (_, i) => `room${n}-${i}`);
      for (const v of p.watchers) {
        expect(v.contents()).toEqual(expected);
        expect(v.delivered.map((d) => d.seq)).toEqual(expected.map((_, i) => i + 1));
        expect(checkOrder(v)).toEqual([]);
      }
      p.host.close();
      for (const v of p.watchers) v.close();
    }
  });

  it("a node that stops gracefully closes only its own sockets: consoles on the other nodes stay and keep the room", async () => {
    const extra = await startNode(local.cluster, services, "node-extra", { COUNTS_INTERVAL_MS: "250" });
    try {
      const r = await room();
      const connectConsole = (url: string) => {
        const socket = ioClient(url, { transports: ["websocket"], auth: { streamId: r.streamId }, reconnection: false });
        const c = { socket, comments: [] as string[], disconnected: false };
        socket.on("comment", (m: { comment: { content: string } }) => c.comments.push(m.comment.content));
        socket.on("disconnect", () => (c.disconnected = true));
        return c;
      };
      const staying = connectConsole(nodes[0]!.url);
      const leaving = connectConsole(extra.url);
      await all([staying, leaving], (c) => new Promise((resolve) => c.socket.once("snapshot", resolve)));
      await extra.stop();
      await waitFor(() => leaving.disconnected, "the stopped node's console disconnected", 30_000);
      const host = await WsClient.connect(`${nodes[1]!.ws}${r.path}`, { token: r.host.token });
      await host.next("snapshot");
      host.send({ type: "comment", comment: { content: "still here" } });
      await waitFor(() => staying.comments.includes("still here"), "the other node's console still in the room", 30_000);
      expect(staying.disconnected).toBe(false);
      host.close();
      staying.socket.close();
    } finally {
      await extra.stop();
    }
  });

  it("kill -9 one node: its viewers reconnect to the others and recover with no gap; the others see none", async () => {
    const r = await room();
    const watchers = await viewers(r.path, 10);
    const host = await WsClient.connect(`${nodes[0]!.ws}${r.path}`, { token: r.host.token });
    await host.next("snapshot");
    const victims = watchers.filter((v) => v.node === 2);
    const others = watchers.filter((v) => v.node !== 2);

    let sent = 0;
    let talking = true;
    const talk = (async () => {
      while (talking) {
        host.send({ type: "comment", id: `c${sent}`, comment: { content: `c${sent}` } });
        sent++;
        await new Promise((res) => setTimeout(res, 40));
      }
    })();
    await waitFor(() => watchers.every((v) => v.contents().length >= 20), "20 comments before the kill", 30_000);
    await nodes[2]!.kill();
    await waitFor(() => victims.every((v) => v.reconnects > 0 && v.node !== 2 && v.snapshots.length >= 2), "every viewer of the dead node reconnected elsewhere", 30_000);
    const atReconnect = sent;
    await waitFor(() => watchers.every((v) => v.contents().length >= atReconnect + 10), "comments after the move", 30_000);
    talking = false;
    await talk;
    await host.until((f) => f.filter((x) => x.type === "ack").length >= sent, 20_000, "every comment acknowledged");
    const expected = Array.from({ length: sent }, (_, i) => `c${i}`);
    await waitFor(() => watchers.every((v) => v.contents().length >= sent), "every comment everywhere", 30_000);

    for (const v of watchers) {
      expect(v.contents()).toEqual(expected);
      expect(checkOrder(v)).toEqual([]);
    }
    // The moved viewers were served their missed events from where they were (history not trimmed).
    for (const v of victims) expect(v.snapshots.slice(1).every((s) => s.recovered && s.node !== 2)).toBe(true);
    for (const v of others) expect([v.reconnects, v.duplicates]).toEqual([0, 0]);
    // The dead node's viewers stop counting once its entry expires; the moved ones count where they are.
    const total = watchers.length + 1;
    await waitFor(() => watchers.every((v) => v.lastCount("viewer_count") === total), `every viewer counts ${total}`, 20_000);
    host.close();
    for (const v of watchers) v.close();
  });
});
