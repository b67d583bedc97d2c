import { describe, expect, it } from "vitest";
import { newCommentId } from "./event-ids.js";

describe("comment ids", () => {
  it("are 12 base64url characters, all different across several pool refills", () => {
    const ids = Array.from({ length: 5000 }, () => newCommentId());
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
