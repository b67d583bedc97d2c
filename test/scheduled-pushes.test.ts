// Scheduled product pushes: at T on every node, moved, cancelled, upcoming in the snapshot, rebuilt by the reconciler.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestServices } from "./support/services.js";
import { spawnServer, startTestServer, type SpawnedServer, type TestServer } from "./support/servers.js";
import { adminToken } from "./support/admin.js";
import { devSession, devStream, sleep, WsClient, type Frame } from "./support/clients.js";
import { httpClient, makeProduct, type HttpClient } from "./support/http.js";

type Push = { id: string; at: number; status: string; countdownSec: number; productId: string };
type Upcoming = { id: string; at: number }[];

const stateOf = (f: Frame) => f.state as { upcoming: Upcoming; countdown: { id: string } | null; bubble: { productId: string } | null };

describe("scheduled product pushes", () => {
  let a: TestServer;
  let b: SpawnedServer;
  let call: HttpClient;
  let admin: string;
  let host: { token: string; userId: string };
  let streamId: string;
  let products: string[];
  const services = useTestServices();

  beforeAll(async () => {
    [a, b] = await Promise.all([startTestServer(services.databaseUrl, services.redisPrefix), spawnServer(services.databaseUrl, services.redisPrefix)]);
    call = httpClient(a.url);
    admin = await adminToken(services.databaseUrl);
    host = await devSession(a.url, "Host");
    streamId = await devStream(a.url, host.token);
    products = [];
    for (const name of ["Tea set", "Jade bracelet", "Silk scarf", "Fan"]) products.push((await makeProduct(call, admin, { priceFen: 1990, stock: 10 }, name)).productId);
    const attached = await call("PUT", `/v1/streams/${streamId}/products`, { token: host.token, body: { productIds: products } });
    expect(attached.status).toBe(200);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  const schedule = (productId: string, at: number, countdownSec = 0) =>
    call<Push>("POST", `/v1/streams/${streamId}/pushes`, { token: host.token, body: { productId, at: new Date(at).toISOString(), countdownSec } });

  const viewerOn = async (node: { ws: string }) => {
    const v = await WsClient.connect(`${node.ws}/live-stream/${streamId}/ws`);
    await v.next("snapshot");
    return v;
  };
  const highlightOf = (v: WsClient, productId: string) => v.frames.find((f) => f.type === "product_highlight" && f.productId === productId);

  it("reaches viewers on both nodes at T, after a countdown; a viewer joining before T sees it as upcoming", async () => {
    const [onA, onB] = await Promise.all([viewerOn(a), viewerOn(b)]);
    const arrivals = new Map<WsClient, number>();
    for (const v of [onA, onB]) {
      v.ws.on("message", (d: Buffer) => {
        const text = d.toString();
        if (text.includes("product_highlight") && text.includes(`"productId":"${products[0]}"`) && !arrivals.has(v)) arrivals.set(v, Date.now());
      });
    }

    const at = Date.now() + 3000;
    const created = await schedule(products[0]!, at, 2);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ productId: products[0], status: "scheduled", countdownSec: 2, at });

    const late = await viewerOn(b);
    const snapshot = late.of("snapshot")[0]!;
    expect(stateOf(snapshot).upcoming.map((u) => u.id)).toContain(created.body.id);
    expect(stateOf(snapshot).bubble?.productId).not.toBe(products[0]);

    for (const v of [onA, onB]) {
      const counting = (f: Frame) => f.type === "product_countdown" && (f.countdown as { id: string } | null)?.id === created.body.id;
      await v.until((f) => f.some(counting), 10_000, "the countdown");
      const countdownAt = v.frames.findIndex(counting);
      const bubbleAt = v.frames.findIndex((f) => f.type === "product_highlight" && f.productId === products[0]);
      expect(bubbleAt === -1 || bubbleAt > countdownAt).toBe(true);
    }
    for (const v of [onA, onB, late]) await v.until(() => highlightOf(v, products[0]!) !== undefined, 10_000, "the pushed bubble");
    for (const v of [onA, onB]) {
      // Not before T (the same machine's clock), and on every node.
      expect(arrivals.get(v)!).toBeGreaterThanOrEqual(at);
      await v.until((f) => f.some((x) => x.type === "upcoming_products" && !(x.items as Upcoming).some((u) => u.id === created.body.id)), 5000, "upcoming without it");
      await v.until((f) => f.some((x) => x.type === "product_countdown" && x.countdown === null), 5000, "countdown cleared");
    }
    const listed = await call<Push[]>("GET", `/v1/streams/${streamId}/pushes`, { token: host.token });
    expect(listed.body.find((p) => p.id === created.body.id)?.status).toBe("fired");
    const after = await viewerOn(a);
    expect(stateOf(after.of("snapshot")[0]!).bubble?.productId).toBe(products[0]);
    for (const v of [onA, onB, late, after]) v.close();
  });

  it("moves a push earlier and later, and cancels one: each fires at its latest time or never", async () => {
    const viewer = await viewerOn(b);
    const soon = Date.now() + 2500;
    const earlier = await schedule(products[1]!, Date.now() + 60_000);
    const later = await schedule(products[2]!, soon);
    const cancelled = await schedule(products[3]!, soon);

    const movedEarlier = await call<Push>("PATCH", `/v1/pushes/${earlier.body.id}`, { token: host.token, body: { at: soon } });
    expect(movedEarlier.status).toBe(200);
    expect(movedEarlier.body.at).toBe(soon);
    const movedLater = await call<Push>("PATCH", `/v1/pushes/${later.body.id}`, { token: host.token, body: { at: new Date(Date.now() + 120_000).toISOString() } });
    expect(movedLater.status).toBe(200);
    const cancel = await call<Push>("DELETE", `/v1/pushes/${cancelled.body.id}`, { token: host.token });
    expect(cancel.body.status).toBe("cancelled");
    expect((await call("DELETE", `/v1/pushes/${cancelled.body.id}`, { token: host.token })).body).toMatchObject({ code: "CONFLICT" });

    await viewer.until(() => highlightOf(viewer, products[1]!) !== undefined, 10_000, "the moved-earlier push");
    await sleep(1500);
    expect(highlightOf(viewer, products[2]!)).toBeUndefined();
    expect(highlightOf(viewer, products[3]!)).toBeUndefined();
    const upcoming = await viewerOn(a);
    const ids = stateOf(upcoming.of("snapshot")[0]!).upcoming.map((u) => u.id);
    expect(ids).toContain(later.body.id);
    expect(ids).not.toContain(cancelled.body.id);
    expect(ids).not.toContain(earlier.body.id);
    // Clean up for the next test: nothing of this one stays scheduled.
    await call("DELETE", `/v1/pushes/${later.body.id}`, { token: host.token });
    viewer.close();
    upcoming.close();
  });

  it("rebuilds a lost timer from PostgreSQL", async () => {
    const viewer = await viewerOn(a);
    const created = await schedule(products[3]!, Date.now() + 2500);
    await a.app.jobs.unschedule("push.fire", `${created.body.id}-r1`);
    expect(await a.app.jobs.scheduledAt("push.fire", `${created.body.id}-r1`)).toBeNull();
    await a.app.reconcile();
    expect(Math.abs((await a.app.jobs.scheduledAt("push.fire", `${created.body.id}-r1`))! - created.body.at)).toBeLessThan(50);
    await viewer.until(() => highlightOf(viewer, products[3]!) !== undefined, 10_000, "the rebuilt push");
    viewer.close();
  });

  it("refuses bad times, other users and products the stream does not sell", async () => {
    expect((await schedule(products[0]!, Date.now() - 1000)).body).toMatchObject({ code: "INVALID_PARAMS" });
    expect((await schedule(products[0]!, Date.now() + 40 * 24 * 3600 * 1000)).body).toMatchObject({ code: "INVALID_PARAMS" });
    for (const at of ["tomorrow", 9e15, -1]) {
      const bad = await call("POST", `/v1/streams/${streamId}/pushes`, { token: host.token, body: { productId: products[0], at } });
      expect(bad.status).toBe(400);
    }
    const other = await devSession(a.url, "Viewer");
    const forbidden = await call("POST", `/v1/streams/${streamId}/pushes`, { token: other.token, body: { productId: products[0], at: Date.now() + 60_000 } });
    expect(forbidden.body).toMatchObject({ code: "FORBIDDEN" });
    const loose = await makeProduct(call, admin, { priceFen: 100, stock: 1 }, "Not in this stream");
    expect((await schedule(loose.productId, Date.now() + 60_000)).body).toMatchObject({ code: "FORBIDDEN" });
    expect((await call("PATCH", `/v1/pushes/nope`, { token: host.token, body: { at: Date.now() + 60_000 } })).status).toBe(404);
  });
});
