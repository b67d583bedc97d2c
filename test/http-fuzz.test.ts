// Every HTTP route from the OpenAPI description, fed malformed parameters and bodies: 4xx with a
// stable code, never a 5xx; routes that need a session refuse requests without one.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERRORS } from "../src/protocol/errors.js";
import { useTestServices } from "./support/services.js";
import { startTestServer, type TestServer } from "./support/servers.js";
import { adminToken } from "./support/admin.js";
import { devSession } from "./support/clients.js";

type Op = { security?: unknown[] };
type Doc = { paths: Record<string, Record<string, Op>> };

const weirdIds = ["x", "%00", "a".repeat(80), "..%2F..%2Fetc", "%F0%9F%98%80", "1%20OR%201%3D1", "-", "_", "%25s%25s"];
const weirdQueries = ["", "?page=-1", "?pageSize=1e9", "?q=%27%3B%20drop%20table%20orders%3B--", "?status=paid&status=shipped", "?page=abc", "?categoryId=%00"];

function randomValue(depth = 0): unknown {
  const pick = Math.floor(Math.random() * (depth > 2 ? 6 : 8));
  switch (pick) {
    case 0:
      return Math.random() < 0.5 ? -1 : Number.MAX_SAFE_INTEGER * 10;
    case 1:
      return randomBytes(Math.floor(Math.random() * 30)).toString("latin1");
    case 2:
      return null;
    case 3:
      return Math.random() < 0.5;
    case 4:
      return 1.5;
    case 5:
      return "'; drop table users; --";
    case 6:
      return Array.from({ length: Math.floor(Math.random() * 3) }, () => randomValue(depth + 1));
    default:
      return Object.fromEntries(
        ["skuId", "quantity", "addressId", "items", "priceFen", "name", "code", "title", "amountFen", "reason", "productIds", "x"]
          .filter(() => Math.random() < 0.4)
          .map((k) => [k, randomValue(depth + 1)]),
      );
  }
}

describe("HTTP fuzz", () => {
  let server: TestServer;
  let admin: string;
  let viewer: string;
  const services = useTestServices();
  const codes = new Set(Object.keys(ERRORS));

  beforeAll(async () => {
    server = await startTestServer(services.databaseUrl, services.redisPrefix);
    admin = await adminToken(services.databaseUrl);
    viewer = (await devSession(server.url, "Viewer")).token;
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("answers malformed input on every route with a 4xx and a stable code, never a 5xx", async () => {
    const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as Doc;
    // Logout may end the admin's or the viewer's session: fuzz it last.
    const routes = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method: method.toUpperCase(), op })))
      .sort((a, b) => Number(a.path === "/v1/auth/logout") - Number(b.path === "/v1/auth/logout"));
    expect(routes.length).toBeGreaterThan(40);
    const extra = [
      { path: "/v1/pay/notify", method: "POST", op: {} as Op },
      { path: "/v1/pay/refund-notify", method: "POST", op: {} as Op },
      { path: "/v1/auth/login", method: "POST", op: {} as Op },
      { path: "/sandbox/wechat/login-code", method: "POST", op: {} as Op },
      { path: "/sandbox/wechat/pay", method: "POST", op: {} as Op },
    ];
    const failures: string[] = [];
    let sent = 0;
    for (const r of [...routes, ...extra]) {
      for (let i = 0; i < 12; i++) {
        const id = weirdIds[i % weirdIds.length]!;
        const url = `${server.url}${r.path.replace(/\{[^}]+\}/g, id)}${r.method === "GET" ? weirdQueries[i % weirdQueries.length] : ""}`;
        const token = [admin, viewer, undefined][i % 3];
        const body = r.method === "GET" || r.method === "DELETE" ? undefined : i % 4 === 0 ? "{not json" : JSON.stringify(randomValue());
        const res = await fetch(url, {
          method: r.method,
          headers: {
            ...(body !== undefined ? { "content-type": "application/json" } : {}),
            ...(token ? { authorization: `Bearer ${token}` } : {}),
            ...(i % 5 === 0 ? { "idempotency-key": randomBytes(3).toString("hex") } : {}),
          },
          body,
        });
        sent++;
        const text = await res.text();
        if (res.status >= 500) failures.push(`${r.method} ${url} → ${res.status} ${text.slice(0, 200)}`);
        // WeChat's own formats: FAIL bodies on notify URLs, errMsg in the sandbox's payment sheet.
        if (res.status >= 400 && !r.path.startsWith("/v1/pay/") && r.path !== "/sandbox/wechat/pay") {
          const code = (JSON.parse(text) as { code?: string }).code;
          if (!code || !codes.has(code)) failures.push(`${r.method} ${url} → ${res.status} without a known code: ${text.slice(0, 200)}`);
        }
        if (r.op.security && !token && res.status !== 401) failures.push(`${r.method} ${url} without a session → ${res.status}`);
      }
    }
    expect(failures).toEqual([]);
    expect(sent).toBeGreaterThan(500);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
  });
});
