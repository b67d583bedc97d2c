import { spawnServer, type EnvOverrides, type SpawnedServer } from "../../support/servers.js";
import type { LocalCluster } from "./cluster.js";

/** A node on the cluster; on a busy machine a start can miss spawnServer's 30 s, so it is tried again. */
export async function startNode(cluster: LocalCluster, services: { databaseUrl: string; redisPrefix: string }, nodeId: string, env: EnvOverrides = {}) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await spawnServer(services.databaseUrl, services.redisPrefix, { REDIS_CLUSTER_NODES: cluster.nodesEnv, NODE_ID: nodeId, ...env });
    } catch (err) {
      if (attempt >= 3 || !/did not start/.test((err as Error).message)) throw err;
    }
  }
}

/** `count` server processes on the cluster (REDIS_CLUSTER_NODES), sharing one database and key prefix. */
export async function startNodes(cluster: LocalCluster, services: { databaseUrl: string; redisPrefix: string }, count: number, env: EnvOverrides = {}) {
  const nodes: SpawnedServer[] = [];
  // One at a time: the first migrates the database, and starts compete for the CPU.
  for (let i = 0; i < count; i++) nodes.push(await startNode(cluster, services, `node-${i}`, env));
  return nodes;
}

/** The sum over `nodes` of a Prometheus counter's samples whose labels include `labels`. */
export async function counterSum(nodes: SpawnedServer[], name: string, labels: Record<string, string>) {
  let total = 0;
  for (const node of nodes) {
    const text = await (await fetch(`${node.url}/metrics`)).text();
    for (const line of text.split("\n")) {
      const m = new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`).exec(line);
      if (!m) continue;
      const have = new Map([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1]!, x[2]!]));
      if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) total += Number(m[2]);
    }
  }
  return total;
}
