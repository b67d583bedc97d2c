// The stream lists the mini program's home page shows (live now, coming up, ended) with covers,
// schedules and the live viewer counts of real WebSocket viewers; the host edits title, cover and
// schedule.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestServices } from "./support/services.js";
import { startTestServer, type TestServer } from "./support/servers.js";
import { adminToken } from "./support/admin.js";
import { devSession, sleep, WsClient, waitUntil } from "./support/clients.js";
import { httpClient, type HttpClient } from "./support/http.js";
import { testPng, upload } from "./support/images.js";

type Info = {
  id: string;
  title: string;
  status: string;
  coverUrl: string;
  scheduledAt: string | null;
  startedAt: string | null;
  endedAt: string | null;
  viewerCount: number;
  likeCount: number;
};
type ErrorBody = { code: string };

describe("stream lists", () => {
  let server: TestServer;
  let call: HttpClient;
  let admin: string;
  let host: { token: string; userId: string };
  const services = useTestServices();

  beforeAll(async () => {
    server = await startTestServer(services.databaseUrl, services.redisPrefix, { COUNTS_INTERVAL_MS: "200" });
    call = httpClient(server.url);
    admin = await adminToken(services.databaseUrl);
    host = await devSession(server.url, "Host");
  });
  afterAll(async () => {
    await server?.stop();
  });

  const create = async (title: string, hostUserId = host.userId) =>
    (await call<Info>("POST", "/v1/streams", { token: admin, body: { title, hostUserId } })).body.id;
  const patch = (id: string, body: Record<string, unknown>, token = host.token) => call<Info & ErrorBody>("PATCH", `/v1/streams/${id}`, { token, body });
  const list = async (query: string) => (await call<Info[]>("GET", `/v1/streams?${query}`)).body;
  /** The ids of `infos` that are among `ids`, in the list's order. */
  const only = (infos: Info[], ids: string[]) => infos.filter((s) => ids.includes(s.id)).map((s) => s.id);

  /** The host says so from the room, as the console does. */
  async function setStatus(id: string, type: "stream_start" | "stream_end") {
    const ws = await WsClient.connect(`${server.ws}/live-stream/${id}/ws`, { token: host.token });
    await ws.next("snapshot");
    ws.send({ type, id: "s" });
    await ws.until((f) => f.some((x) => x.type === "ack" && x.id === "s"), 10_000, "ack");
    ws.close();
    await ws.closed;
  }

  async function watch(id: string, n: number, token?: string) {
    const out: WsClient[] = [];
    for (let i = 0; i < n; i++) {
      const ws = await WsClient.connect(`${server.ws}/live-stream/${id}/ws`, token ? { token } : {});
      await ws.next("snapshot");
      out.push(ws);
    }
    return out;
  }

  it("lists live streams by their real viewer counts, most watched first, a page at a time", async () => {
    const [a, b, c] = [await create("A"), await create("B"), await create("C")];
    for (const id of [a, b, c]) await setStatus(id, "stream_start");
    const fan = await devSession(server.url, "Fan");
    const viewers = { a: await watch(a, 1), b: await watch(b, 3), c: [...(await watch(c, 1)), ...(await watch(c, 1, fan.token))] };
    viewers.c[1]!.send({ type: "like", id: "l", count: 7 });

    const counted = async () => {
      const live = await list("status=live");
      const of = (id: string) => live.find((s) => s.id === id);
      return of(a)?.viewerCount === 1 && of(b)?.viewerCount === 3 && of(c)?.viewerCount === 2 && of(c)?.likeCount === 7;
    };
    await waitUntil(counted, "viewer and like counts");
    const live = await list("status=live");
    expect(only(live, [a, b, c])).toEqual([b, c, a]);
    const infoB = live.find((s) => s.id === b)!;
    expect(infoB).toMatchObject({ status: "live", viewerCount: 3, likeCount: 0, endedAt: null, scheduledAt: null, coverUrl: "" });
    expect(Date.parse(infoB.startedAt!)).toBeGreaterThan(Date.now() - 60_000);

    const page1 = await list("status=live&pageSize=2&page=1");
    const page2 = await list("status=live&pageSize=2&page=2");
    expect(page1.map((s) => s.id)).toEqual([b, c]);
    expect(page2.map((s) => s.id)).toEqual([a]);
    expect(await list("status=live&pageSize=2&page=3")).toEqual([]);

    // A single stream's info carries the same counts (GET /v1/streams/:id and seed 003's call).
    expect((await call<{ stream: Info }>("GET", `/api/live-stream/${c}`)).body.stream).toMatchObject({ viewerCount: 2, likeCount: 7 });
    expect((await call<{ stream: Info }>("GET", `/v1/streams/${b}`)).body.stream).toMatchObject({ viewerCount: 3 });

    // B's viewers leave: B has none and goes last.
    for (const ws of viewers.b) ws.close();
    await waitUntil(async () => (await list("status=live")).find((s) => s.id === b)?.viewerCount === 0, "B empty");
    expect(only(await list("status=live"), [a, b, c])).toEqual([c, a, b]);
    for (const ws of [...viewers.a, ...viewers.c]) ws.close();
  });

  it("lists upcoming streams soonest first, then unscheduled ones, and ended streams newest end first", async () => {
    const soon = await create("In an hour");
    const tomorrow = await create("Tomorrow");
    const someday = await create("Someday");
    expect((await patch(tomorrow, { scheduledAt: new Date(Date.now() + 24 * 3600_000).toISOString() })).status).toBe(200);
    expect((await patch(soon, { scheduledAt: new Date(Date.now() + 3600_000).toISOString() })).status).toBe(200);
    expect(only(await list("status=upcoming"), [soon, tomorrow, someday])).toEqual([soon, tomorrow, someday]);
    // `idle` is still accepted: every idle stream, newest first.
    expect(only(await list("status=idle"), [soon, tomorrow, someday])).toEqual([someday, tomorrow, soon]);

    const first = await create("Ended first");
    const second = await create("Ended second");
    for (const id of [first, second]) await setStatus(id, "stream_start");
    await setStatus(first, "stream_end");
    await sleep(20);
    await setStatus(second, "stream_end");
    const ended = await list("status=ended");
    expect(only(ended, [first, second])).toEqual([second, first]);
    const e = ended.find((s) => s.id === first)!;
    expect(e.status).toBe("ended");
    expect(Date.parse(e.endedAt!)).toBeGreaterThanOrEqual(Date.parse(e.startedAt!));
    // Ending again keeps the first end; going live again starts afresh.
    await setStatus(first, "stream_end");
    expect((await call<{ stream: Info }>("GET", `/v1/streams/${first}`)).body.stream.endedAt).toBe(e.endedAt);
    await setStatus(first, "stream_start");
    const again = (await call<{ stream: Info }>("GET", `/v1/streams/${first}`)).body.stream;
    expect(again).toMatchObject({ status: "live", endedAt: null });
    expect(Date.parse(again.startedAt!)).toBeGreaterThan(Date.parse(e.startedAt!));
    expect((await call<ErrorBody>("GET", "/v1/streams?status=paused")).body.code).toBe("INVALID_PARAMS");
  });

  it("lets the stream's host or an admin change its title, cover and schedule, and nobody else", async () => {
    const id = await create("Spring tea");
    const cover = (await upload<{ url: string }>(server.url, "/v1/admin/images", admin, testPng(32, 18, [30, 140, 90]))).body.url;
    const at = "2031-05-01T20:00:00+08:00";
    const edited = await patch(id, { title: "Spring tea, first flush", coverUrl: cover, scheduledAt: at });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ id, title: "Spring tea, first flush", coverUrl: cover, scheduledAt: "2031-05-01T12:00:00.000Z" });
    // Only what is sent changes; null clears the schedule, "" the cover.
    expect((await patch(id, { scheduledAt: null })).body).toMatchObject({ title: "Spring tea, first flush", coverUrl: cover, scheduledAt: null });
    expect((await patch(id, { coverUrl: "https://img.test/cover.jpg" }, admin)).body).toMatchObject({ coverUrl: "https://img.test/cover.jpg" });
    expect((await patch(id, { coverUrl: "" }, admin)).body.coverUrl).toBe("");

    const other = await devSession(server.url, "Other host");
    await create("Theirs", other.userId);
    expect((await patch(id, { title: "Mine now" }, other.token)).body.code).toBe("FORBIDDEN");
    expect((await call<ErrorBody>("PATCH", `/v1/streams/${id}`, { body: { title: "x" } })).status).toBe(401);
    expect((await patch("no-such-stream", { title: "x" }, admin)).body.code).toBe("STREAM_NOT_FOUND");
    for (const body of [{ title: "" }, { coverUrl: "/etc/passwd" }, { scheduledAt: "tomorrow" }, { scheduledAt: "2031-05-01T20:00:00" }]) {
      expect((await patch(id, body)).body.code, JSON.stringify(body)).toBe("INVALID_PARAMS");
    }
    expect((await call<{ stream: Info }>("GET", `/v1/streams/${id}`)).body.stream).toMatchObject({ title: "Spring tea, first flush", coverUrl: "", scheduledAt: null });
  });
});
