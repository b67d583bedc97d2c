import { createServer, connect, type Server, type Socket } from "node:net";

export type ProxyMode = "open" | "cut" | "blackhole";

/**
 * A TCP proxy between a server and one of its services (Redis, PostgreSQL) that a test can break:
 * - `cut()`: every connection is closed and new ones are refused (the service is down);
 * - `blackhole()`: connections stay open and new ones are accepted, but no byte gets through
 *   either way (an unroutable host, a dead switch);
 * - `heal()`: new connections go through again (old black-holed ones stay dead, as after a real
 *   partition: clients must notice and reconnect).
 * Listens on 127.0.0.1 (a free port unless one is given); `url(scheme)` is the service's URL through it.
 */
export async function startTcpProxy(target: { host: string; port: number }, listenPort = 0) {
  let mode: ProxyMode = "open";
  const pairs = new Set<{ client: Socket; upstream: Socket | null; dead: boolean }>();
  let server: Server | null = null;
  let port = listenPort;

  const onConnection = (client: Socket) => {
    const pair = { client, upstream: null as Socket | null, dead: mode === "blackhole" };
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      pair.upstream?.destroy();
    };
    client.on("error", drop);
    client.on("close", drop);
    if (pair.dead) {
      client.on("data", () => {}); // swallowed
      return;
    }
    const upstream = connect(target.port, target.host);
    pair.upstream = upstream;
    upstream.on("error", drop);
    upstream.on("close", () => {
      if (!pair.dead) drop();
    });
    client.on("data", (chunk) => {
      if (!pair.dead) upstream.write(chunk);
    });
    upstream.on("data", (chunk) => {
      if (!pair.dead) client.write(chunk);
    });
  };

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer(onConnection);
      s.once("error", reject);
      s.listen(port, "127.0.0.1", () => {
        s.off("error", reject);
        port = (s.address() as { port: number }).port;
        server = s;
        resolve();
      });
    });
  const destroyAll = () => {
    for (const p of [...pairs]) {
      p.client.destroy();
      p.upstream?.destroy();
    }
    pairs.clear();
  };
  /** Stops listening; resolves once the port is free (open connections must be gone for that). */
  const unlisten = () =>
    new Promise<void>((resolve) => {
      const s = server;
      server = null;
      if (!s) return resolve();
      s.close(() => resolve());
      destroyAll();
    });

  await listen();
  return {
    get port() {
      return port;
    },
    get mode() {
      return mode;
    },
    url: (scheme: string, path = "") => `${scheme}://127.0.0.1:${port}${path}`,
    /** The service goes down: open connections are closed, new ones refused. */
    async cut() {
      mode = "cut";
      await unlisten();
    },
    /** Nothing gets through, and nobody is told: open connections go silent, new ones hang. */
    async blackhole() {
      mode = "blackhole";
      for (const p of pairs) p.dead = true;
      if (!server) await listen();
    },
    /** New connections reach the service again. */
    async heal() {
      mode = "open";
      if (!server) await listen();
    },
    async close() {
      await unlisten();
      destroyAll();
    },
  };
}

export type TcpProxy = Awaited<ReturnType<typeof startTcpProxy>>;
