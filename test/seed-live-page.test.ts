// Acceptance 3: a client written to seed 003's live page, unchanged but for its session token.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { useTestServices } from "./support/services.js";
import { startTestServer, type TestServer } from "./support/servers.js";
import { devSession, devStream, waitFor, WsClient } from "./support/clients.js";

/** The seed page's socket logic (pages/live-stream/live-stream.js), with wx.connectSocket as `ws`. */
class SeedLivePage {
  data = { comments: [] as unknown[], viewerCount: 0, products: [] as { id: string; highlighted: boolean }[], isLive: true };
  ended = false;
  socketTask: WebSocket;
  opened: Promise<void>;

  constructor(url: string, token?: string) {
    // wx.connectSocket({ url, header }) — the only change: the session token in a header.
    this.socketTask = new WebSocket(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
    this.socketTask.on("message", (res) => this.handleWebSocketMessage(JSON.parse((res as Buffer).toString()) as never));
    this.opened = new Promise((r) => this.socketTask.once("open", () => r()));
    this.data.products = [{ id: "p-1", highlighted: false }, { id: "p-2", highlighted: false }];
  }

  handleWebSocketMessage(data: { type: string; comment?: unknown; count?: number; productId?: string }) {
    switch (data.type) {
      case "comment":
        this.data.comments = [...this.data.comments, data.comment];
        break;
      case "viewer_count":
        this.data.viewerCount = data.count!;
        break;
      case "product_highlight":
        this.data.products = this.data.products.map((p) => ({ ...p, highlighted: p.id === data.productId }));
        break;
      case "stream_end":
        this.data.isLive = false;
        this.ended = true;
        break;
    }
  }

  sendComment(content: string) {
    this.socketTask.send(
      JSON.stringify({ type: "comment", comment: { userId: "spoofed-id", username: "spoofed-name", content, timestamp: Date.now() } }),
    );
  }
}


describe("seed 003 live page as a client", () => {
  let server: TestServer;
  const services = useTestServices();

  beforeAll(async () => {
    server = await startTestServer(services.databaseUrl, services.redisPrefix, { COUNTS_INTERVAL_MS: "200" });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("receives comment, viewer_count, product_highlight and stream_end; its comments reach others", async () => {
    const host = await devSession(server.url, "Host");
    const viewer = await devSession(server.url, "Mei");
    const streamId = await devStream(server.url, host.token);
    const url = `${server.ws}/live-stream/${streamId}/ws`;

    const page = new SeedLivePage(url, viewer.token);
    const other = await WsClient.connect(url);
    const hostWs = await WsClient.connect(url, { token: host.token });
    await page.opened;
    await other.next("snapshot");

    await waitFor(() => page.data.viewerCount === 3, "viewer_count 3");

    page.sendComment("  is the tea from this year? ");
    const seen = await other.next("comment");
    expect(seen.comment).toMatchObject({ userId: viewer.userId, username: "Mei", content: "is the tea from this year?" });
    await waitFor(() => page.data.comments.length === 1, "own comment back");
    expect(page.data.comments[0]).toMatchObject({ userId: viewer.userId, content: "is the tea from this year?" });

    hostWs.send({ type: "comment", comment: { content: "Yes, spring harvest!" } });
    await waitFor(() => page.data.comments.length === 2, "host comment");
    expect(page.data.comments[1]).toMatchObject({ userId: host.userId, role: "host" });

    hostWs.send({ type: "product_highlight", productId: "p-2" });
    await waitFor(() => page.data.products.some((p) => p.highlighted), "highlight");
    expect(page.data.products).toEqual([
      { id: "p-1", highlighted: false },
      { id: "p-2", highlighted: true },
    ]);

    const late = new SeedLivePage(url);
    await waitFor(() => late.data.products.some((p) => p.highlighted) && late.data.viewerCount >= 3, "current state on join");
    expect(late.data.products.find((p) => p.highlighted)?.id).toBe("p-2");

    hostWs.send({ type: "stream_end" });
    await waitFor(() => page.ended, "stream_end");
    expect(page.data.isLive).toBe(false);

    await waitFor(() => late.ended, "stream_end on the late page");
    page.socketTask.close();
    late.socketTask.close();
    other.close();
    hostWs.close();
  });

  it("watches without a session, but its comments are refused with AUTH_REQUIRED", async () => {
    const host = await devSession(server.url, "Host2");
    const streamId = await devStream(server.url, host.token);
    const url = `${server.ws}/live-stream/${streamId}/ws`;
    const anon = await WsClient.connect(url);
    const hostWs = await WsClient.connect(url, { token: host.token });
    await anon.next("snapshot");

    anon.send({ type: "comment", comment: { userId: "someone", username: "x", content: "let me in" } });
    const err = await anon.next("error");
    expect(err.code).toBe("AUTH_REQUIRED");

    hostWs.send({ type: "comment", comment: { content: "welcome" } });
    const c = await anon.next("comment");
    expect(c.comment).toMatchObject({ content: "welcome", userId: host.userId });
    expect(anon.of("comment").map((f) => (f.comment as { content: string }).content)).toEqual(["welcome"]);
    anon.close();
    hostWs.close();
  });

  it("refuses a bad token and an unknown stream before the socket opens", async () => {
    const host = await devSession(server.url, "Host3");
    const streamId = await devStream(server.url, host.token);
    await expect(WsClient.connect(`${server.ws}/live-stream/${streamId}/ws`, { token: "x".repeat(43) })).rejects.toMatchObject({
      status: 401,
    });
    await expect(WsClient.connect(`${server.ws}/live-stream/no-such-stream/ws`)).rejects.toMatchObject({ status: 404 });
  });
});
