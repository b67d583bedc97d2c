import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, serializeError } from "./log.js";

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { log: createLogger("info", "n1", stream), text: () => lines.join("") };
}

describe("log", () => {
  it("keeps what failed and drops the values sent: drizzle params, postgres.js parameters and detail, ioredis args", () => {
    const cause = Object.assign(new Error("duplicate key value violates unique constraint"), {
      code: "23505",
      constraint_name: "users_openid_unique",
      query: "insert into users (openid) values ($1)",
      parameters: ["oSecret"],
      detail: "Key (openid)=(oSecret) already exists.",
    });
    const err = Object.assign(new Error('Failed query: insert into users (openid) values ($1)\nparams: oSecret'), { params: ["oSecret"], cause });
    const out = serializeError(err) as Record<string, unknown>;
    expect(out).toMatchObject({ type: "Error", code: "23505", constraint_name: "users_openid_unique", query: "insert into users (openid) values ($1)" });
    expect(out.message).toBe("Failed query: insert into users (openid) values ($1)\nparams: [redacted]: duplicate key value violates unique constraint");
    expect(JSON.stringify(out)).not.toContain("oSecret");
    const redisError = Object.assign(new Error("ERR wrong"), { command: { name: "evalsha", args: ["sha", "13912345678"] } });
    expect(JSON.stringify(serializeError(redisError))).not.toContain("13912345678");
    expect(serializeError("Failed query: x\nparams: 13912345678")).toBe("Failed query: x\nparams: [redacted]");
  });

  it("redacts tokens and personal fields wherever a caller put them", () => {
    const { log, text } = capture();
    log.info({ token: "tok-1", user: { phone: "13912345678", openid: "oX" }, headers: { authorization: "Bearer tok-2" } }, "hello");
    log.error({ err: new Error("Failed query: q\nparams: tok-3") }, "failed");
    expect(text()).toContain('"msg":"hello"');
    for (const secret of ["tok-1", "tok-2", "tok-3", "13912345678", '"oX"']) expect(text()).not.toContain(secret);
  });
});
