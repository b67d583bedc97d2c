// A socket.io client speaking Engine.IO v4's HTTP long-polling by hand, so a case can send
// exactly the bytes it wants (an oversized POST, a chunked body).

/** Engine.IO packets of one polling response, split on the record separator. */
const packets = (payload: string) => (payload ? payload.split("\x1e") : []);

/** Opens a polling session and joins `auth`'s room (socket.io CONNECT); resolves once connected. */
export async function pollingSession(baseUrl: string, auth: Record<string, unknown>) {
  const base = `${baseUrl}/socket.io/?EIO=4&transport=polling`;
  const open = await (await fetch(base)).text();
  if (!open.startsWith("0")) throw new Error(`engine.io open: ${open.slice(0, 200)}`);
  const { sid } = JSON.parse(open.slice(1)) as { sid: string };
  const url = `${base}&sid=${sid}`;
  const received: string[] = [];
  const session = {
    sid,
    url,
    /** Every socket.io packet received so far (e.g. `42["pong",{…}]`). */
    received,
    /** POSTs `body` as one payload; resolves with the HTTP status. */
    async post(body: BodyInit, init: RequestInit = {}) {
      const res = await fetch(url, { method: "POST", headers: { "content-type": "text/plain;charset=UTF-8" }, body, ...init });
      await res.arrayBuffer();
      return res.status;
    },
    /** One long-poll GET; resolves with its status (its packets go to `received`). */
    async poll() {
      const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
      const text = await res.text();
      if (res.status === 200) received.push(...packets(text));
      return { status: res.status, text };
    },
    /** Polls until a received packet matches `predicate`. */
    async until(predicate: (packet: string) => boolean, what: string) {
      for (let i = 0; i < 20 && !received.some(predicate); i++) {
        const { status, text } = await session.poll();
        if (status !== 200) throw new Error(`poll for ${what}: ${status} ${text}`);
      }
      if (!received.some(predicate)) throw new Error(`no ${what}; got ${received.join(" | ").slice(0, 500)}`);
    },
  };
  const status = await session.post(`40${JSON.stringify(auth)}`);
  if (status !== 200) throw new Error(`socket.io connect: ${status}`);
  await session.until((p) => p.startsWith("40"), "socket.io CONNECT");
  return session;
}
