// The router against a real uWS listener: a client that sends part of a body and goes away leaves
// no request counted in flight, so a drain (graceful shutdown) is not held up by it.
import { connect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import uWS, { type us_listen_socket } from "uWebSockets.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../log.js";
import { createRouter, type Router } from "./router.js";

describe("the router", () => {
  let listen: us_listen_socket;
  let port = 0;
  let router: Router;
  let handled = 0;

  beforeAll(async () => {
    const app = uWS.App();
    router = createRouter(app, createLogger("silent", "test"), { maxBodyBytes: 64 * 1024 });
    router.post("/echo", (ctx) => {
      handled++;
      return Promise.resolve({ status: 200, body: { got: ctx.rawBody.length } });
    });
    listen = await new Promise<us_listen_socket>((resolve, reject) => app.listen("127.0.0.1", 0, (s) => (s ? resolve(s) : reject(new Error("no listen")))));
    port = uWS.us_socket_local_port(listen);
  });
  afterAll(() => {
    uWS.us_listen_socket_close(listen);
  });

  it("forgets a request whose client left in the middle of its body: nothing in flight, a drain is idle at once", async () => {
    const socket = connect(port, "127.0.0.1");
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.write("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"half\":");
    const deadline = Date.now() + 5000;
    while (router.inFlight === 0 && Date.now() < deadline) await sleep(10);
    expect(router.inFlight).toBe(1);
    socket.destroy();
    while (router.inFlight > 0 && Date.now() < deadline) await sleep(10);
    expect(router.inFlight).toBe(0);
    expect(handled).toBe(0);
    // A whole request still gets its answer.
    const answer = await fetch(`http://127.0.0.1:${port}/echo`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"a":1}' });
    expect(await answer.json()).toEqual({ got: 7 });
    expect(await router.drain(60_000)).toBe(true);
  });
});
