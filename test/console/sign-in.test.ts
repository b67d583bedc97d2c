// The console's sign-in and its refusals, in Chromium against a real server: wrong password,
// lockout, a host kept out of admin pages and of another host's stream (403 shown as such).
import { describe, expect, it } from "vitest";
import { shot, useConsole } from "./harness.js";

describe("console sign-in", () => {
  const { h, page, stream } = useConsole({ STAFF_LOGIN_MAX_FAILURES: "3", STAFF_LOGIN_LOCK_SEC: "30" });

  it("a wrong password shows a clear error on the form; too many lock the account", async () => {
    const p = await page();
    await p.goto(`${h.url}/console/`);
    await p.waitForURL(/\/console\/login/);
    await shot(p, "sign-in");
    await p.getByLabel("用户名").fill(h.otherHost.username);
    const password = p.getByLabel("密码", { exact: true });
    const error = p.locator("[data-test=login-error]");
    for (let i = 0; i < 2; i++) {
      await password.fill(`not-the-password-${i}`);
      await p.getByRole("button", { name: "登录" }).click();
      await expect.poll(() => error.textContent()).toContain("用户名或密码错误");
    }
    await shot(p, "sign-in-wrong-password");
    await password.fill("not-the-password-2"); // the third failure in a row locks the account
    await p.getByRole("button", { name: "登录" }).click();
    await expect.poll(() => error.textContent()).toContain("账号已暂时锁定");
    await password.fill(h.otherHost.password); // even the right password is refused while locked
    await p.getByRole("button", { name: "登录" }).click();
    await expect.poll(() => error.textContent()).toMatch(/账号已暂时锁定（\d+ 秒后再试）/);
    await shot(p, "sign-in-locked");
    expect(p.url()).toMatch(/\/console\/login/);
  });

  it("a host sees only live rooms; admin pages and another host's stream answer 403", async () => {
    const mine = await stream(h.host, "李主播的春茶专场");
    const theirs = await stream(h.admin, "别人的直播间");
    const p = await page();
    // Signed in with the keyboard alone: type, Tab, type, Enter.
    await p.goto(`${h.url}/console/login`);
    await p.getByLabel("用户名").focus();
    await p.keyboard.type(h.host.username);
    await p.keyboard.press("Tab");
    await p.keyboard.type(h.host.password);
    await p.keyboard.press("Enter");
    await p.waitForURL(/\/console\/streams$/);
    await expect.poll(() => p.locator("[data-test=stream-table]").textContent()).toContain("李主播的春茶专场");
    expect(await p.locator("[data-test=stream-table]").textContent()).not.toContain("别人的直播间");
    expect(await p.locator("[data-test^=menu-]").allTextContents()).toEqual(["直播间"]);
    await shot(p, "streams-host");

    for (const path of ["admin/orders", "admin/catalog", "admin/staff", "admin/groups"]) {
      await p.goto(`${h.url}/console/${path}`);
      await expect.poll(() => p.locator("[data-test=forbidden]").textContent()).toContain("403");
    }
    await shot(p, "admin-page-forbidden");

    await p.goto(`${h.url}/console/streams/${theirs.id}`);
    await expect.poll(() => p.locator("[data-test=forbidden]").textContent()).toContain("403 无权访问");
    await shot(p, "control-room-forbidden");

    await p.goto(`${h.url}/console/streams/${mine.id}`);
    await expect.poll(() => p.locator("[data-test=room-status]").textContent()).toContain("未开播");

    await p.getByRole("button", { name: "退出登录" }).click();
    await p.waitForURL(/\/console\/login/);
    const me = await h.call("GET", "/v1/me", { token: h.host.token });
    expect(me.status).toBe(200); // only the browser's session ended
  });
});
