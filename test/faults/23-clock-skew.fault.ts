// Case 23: one node's clock runs 10 minutes ahead (a broken NTP); another node and WeChat (the
// sandbox, on the healthy node) keep the right time. WeChat's notifications reaching the skewed node
// fall outside the 5-minute window: each is refused (so WeChat retries) and the log says why, with
// the skew. The same notification retried onto the healthy node applies, once. The skewed node's own
// calls to WeChat are refused by WeChat in turn, answered 502, and nothing changes.
import { afterAll, beforeAll, expect } from "vitest";
import { adminToken } from "../support/admin.js";
import { sleep } from "../support/clients.js";
import { httpClient } from "../support/http.js";
import { logRecords } from "../support/logs.js";
import { wechatPayNotifier } from "./app-support/notifier.js";
import { spawnServer, type SpawnedServer } from "../support/servers.js";
import { payInSandbox, sandboxSecrets } from "../support/wechat.js";
import { faultCase } from "./fault-case.js";
import { useCaseServer } from "./app-support/case-server.js";
import { skewedClockEnv } from "./app-support/clock.js";
import { deadPort } from "./app-support/ports.js";
import { orderTruth, unpaidOrder } from "./app-support/orders.js";

const SKEW_MS = 10 * 60_000;

// The healthy node hosts WeChat (the sandbox); its own notifications go nowhere, the case delivers them.
const ctx = useCaseServer(async () => ({ PUBLIC_BASE_URL: `http://127.0.0.1:${await deadPort()}` }));
let skewed: SpawnedServer | null = null;
beforeAll(async () => {
  const wechat = `${ctx.server.url}/sandbox/wechat`;
  skewed = await spawnServer(ctx.services.databaseUrl, ctx.services.redisPrefix, { ...skewedClockEnv(SKEW_MS), WECHAT_API_BASE: wechat, WECHATPAY_API_BASE: wechat }, 60_000);
});
afterAll(async () => {
  await skewed?.stop();
});

faultCase(23, "clock skew (the app's clock 10 minutes ahead)", async (log) => {
  const healthy = ctx.server;
  const k = skewed!;
  const call = httpClient(healthy.url);
  const truth = orderTruth(ctx.services.databaseUrl);
  try {
    const admin = await adminToken(ctx.services.databaseUrl);
    const notifier = wechatPayNotifier(k.url, await sandboxSecrets(ctx.services.databaseUrl));
    const [paid, other] = await Promise.all([unpaidOrder(call, admin, { priceFen: 2600, prepay: true }), unpaidOrder(call, admin, { priceFen: 2700 })]);
    const kDeadline = (await httpClient(k.url)<{ payDeadline: string }>("POST", "/v1/orders", { token: other.buyer.token, headers: { "idempotency-key": "skew-probe" }, body: { items: [{ skuId: other.product.skuId, quantity: 1 }], addressId: other.buyer.addressId } })).body.payDeadline;
    const ahead = Date.parse(kDeadline) - Date.parse(other.order.payDeadline);
    expect(ahead).toBeGreaterThan(SKEW_MS - 60_000);
    expect(await payInSandbox(call, paid.payParams!)).toBe("requestPayment:ok");
    log.injected(`one node's wall clock runs ${Math.round(ahead / 1000)} s ahead (a preloaded shift of Date); the buyer paid in WeChat and WeChat's notification, stamped with the real time, reached that node three times (WeChat's retries)`);

    const refusedBefore = logRecords(k.output()).filter((r) => r.msg === "notification refused").length;
    const n = notifier.paid(paid.order.id, paid.order.totalFen);
    const answers = [];
    for (let i = 0; i < 3; i++) {
      answers.push(await notifier.post(n));
      await sleep(300);
    }
    for (const a of answers) expect(a).toMatchObject({ status: 401, body: { code: "FAIL" } });
    expect((await truth.order(paid.order.id)).status).toBe("pending_payment");
    log.checked("each refused 401 {code: FAIL}, so WeChat keeps retrying; the order stays unpaid meanwhile");

    const refusals = logRecords(k.output())
      .filter((r) => r.msg === "notification refused")
      .slice(refusedBefore);
    expect(refusals.map((r) => r.level)).toEqual([40, 40, 40]);
    const reason = String(refusals[0]!.reason);
    expect(reason).toMatch(/clock/i);
    const seconds = Number(/(\d+) s/.exec(reason)?.[1]);
    expect(Math.abs(seconds - SKEW_MS / 1000)).toBeLessThanOrEqual(60);
    log.checked(`each refusal logged at warn with the skew: "${reason}"`);

    // The same notification, retried by WeChat onto the node with the right time, applies once.
    const onHealthy = await fetch(`${healthy.url}/v1/pay/notify`, { method: "POST", headers: n.headers, body: n.body });
    expect(onHealthy.status).toBe(204);
    expect(await truth.order(paid.order.id)).toMatchObject({ status: "paid" });
    expect(await truth.sales(paid.product.productId)).toBe(1);
    log.checked("the same notification retried onto the node with the right time is accepted: paid once (the window refused it, not its signature)");

    // The skewed node's own requests to WeChat carry its wrong time: WeChat refuses them.
    const params = await httpClient(k.url)<{ code?: string }>("POST", `/v1/orders/${other.order.id}/pay`, { token: other.buyer.token });
    expect(params).toMatchObject({ status: 502, body: { code: "UPSTREAM_UNAVAILABLE" } });
    expect(await truth.wechat(other.order.id)).toMatchObject({ state: null });
    expect(k.exitCode()).toBeNull();
    log.checked("the skewed node's own call to WeChat Pay (payment parameters) was refused by WeChat for its timestamp: the buyer got 502 UPSTREAM_UNAVAILABLE, nothing was created at WeChat, the node stayed up");
  } finally {
    await truth.close();
  }
});
