// The signed-in user's profile: nickname and avatar (WeChat's fill-in), an avatar uploaded the way
// wx.uploadFile sends it, and GET /v1/me as a typed route in the OpenAPI description.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestServices } from "./support/services.js";
import { startTestServer, type TestServer } from "./support/servers.js";
import { httpClient, type HttpClient } from "./support/http.js";
import { testPng, upload } from "./support/images.js";
import { wechatUser } from "./support/wechat.js";

type Me = { id: string; nickname: string; username: string | null; avatarUrl: string; role: string; hostOf: string[] };
type ErrorBody = { code: string };

describe("profile", () => {
  let server: TestServer;
  let call: HttpClient;
  const services = useTestServices();

  beforeAll(async () => {
    server = await startTestServer(services.databaseUrl, services.redisPrefix);
    call = httpClient(server.url);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("changes nickname and avatar URL with PATCH /v1/me, only the fields sent", async () => {
    const mei = await wechatUser(call, "Mei");
    expect((await call<Me>("GET", "/v1/me", { token: mei.token })).body).toEqual({ id: mei.userId, nickname: "Mei", username: null, avatarUrl: "", role: "user", hostOf: [] });

    const renamed = await call<Me>("PATCH", "/v1/me", { token: mei.token, body: { nickname: "  小美 " } });
    expect(renamed.body).toMatchObject({ nickname: "小美", avatarUrl: "" });
    const avatar = await call<Me>("PATCH", "/v1/me", { token: mei.token, body: { avatarUrl: "https://thirdwx.qlogo.cn/mmopen/abc/132" } });
    expect(avatar.body).toMatchObject({ nickname: "小美", avatarUrl: "https://thirdwx.qlogo.cn/mmopen/abc/132" });
    expect((await call<Me>("GET", "/v1/me", { token: mei.token })).body).toMatchObject({ nickname: "小美", avatarUrl: "https://thirdwx.qlogo.cn/mmopen/abc/132" });
    expect((await call<Me>("PATCH", "/v1/me", { token: mei.token, body: {} })).body).toMatchObject({ nickname: "小美" });

    for (const body of [{ nickname: "" }, { nickname: "x".repeat(41) }, { avatarUrl: "/etc/passwd" }, { avatarUrl: "wxfile://tmp_abc.png" }]) {
      expect((await call<ErrorBody>("PATCH", "/v1/me", { token: mei.token, body })).body.code, JSON.stringify(body)).toBe("INVALID_PARAMS");
    }
    expect((await call<Me>("PATCH", "/v1/me", { token: mei.token, body: { avatarUrl: "" } })).body.avatarUrl).toBe("");
    expect((await call<ErrorBody>("PATCH", "/v1/me", { body: { nickname: "x" } })).status).toBe(401);
    // Another user is untouched.
    const lan = await wechatUser(call, "Lan");
    expect((await call<Me>("GET", "/v1/me", { token: lan.token })).body).toMatchObject({ nickname: "Lan", avatarUrl: "" });
  });

  it("uploads an avatar as wx.uploadFile does after chooseAvatar, and /v1/me shows it", async () => {
    const mei = await wechatUser(call, "Mei");
    const bytes = testPng(132, 132, [250, 180, 40]);
    // wx.uploadFile: the file under `name` ("file") plus any formData fields.
    const res = await upload<{ avatarUrl: string }>(server.url, "/v1/me/avatar", mei.token, bytes, { filename: "tmp_avatar.png", fields: { source: "chooseAvatar" } });
    expect(res.status).toBe(200);
    expect(res.body.avatarUrl).toMatch(/^\/images\/[0-9a-f]{64}\.png$/);
    expect((await call<Me>("GET", "/v1/me", { token: mei.token })).body.avatarUrl).toBe(res.body.avatarUrl);
    const served = await fetch(`${server.url}${res.body.avatarUrl}`);
    expect(served.headers.get("content-type")).toBe("image/png");
    expect(Buffer.from(await served.arrayBuffer()).equals(bytes)).toBe(true);

    // Not an image: refused, and the avatar stays.
    const text = await upload<ErrorBody>(server.url, "/v1/me/avatar", mei.token, Buffer.from("hello"));
    expect(text).toMatchObject({ status: 415, body: { code: "UNSUPPORTED_MEDIA_TYPE" } });
    expect((await call<Me>("GET", "/v1/me", { token: mei.token })).body.avatarUrl).toBe(res.body.avatarUrl);
    expect((await upload(server.url, "/v1/me/avatar", undefined, bytes)).status).toBe(401);

    // With PUBLIC_BASE_URL set (and no IMAGE_BASE_URL), responses carry absolute URLs.
    const other = await startTestServer(services.databaseUrl, services.redisPrefix, { PUBLIC_BASE_URL: "https://shop.pinlive.test/" });
    try {
      const me = await httpClient(other.url)<Me>("GET", "/v1/me", { token: mei.token });
      expect(me.body.avatarUrl).toBe(`https://shop.pinlive.test${res.body.avatarUrl}`);
    } finally {
      await other.stop();
    }
  });

  it("describes /v1/me and the uploads in /openapi.json", async () => {
    const doc = (await call<{ paths: Record<string, Record<string, { requestBody?: { content: Record<string, unknown> } }>> }>("GET", "/openapi.json")).body;
    expect(Object.keys(doc.paths["/v1/me"]!).sort()).toEqual(["get", "patch"]);
    expect(Object.keys(doc.paths["/v1/me/avatar"]!.post!.requestBody!.content)).toEqual(["multipart/form-data"]);
    expect(Object.keys(doc.paths["/v1/admin/images"]!.post!.requestBody!.content)).toEqual(["multipart/form-data"]);
  });
});
