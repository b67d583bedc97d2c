import { describe, expect, it } from "vitest";
import type { AppError } from "../protocol/errors.js";
import { createCommentRules } from "./comment-rules.js";

const rules = createCommentRules({ maxLength: 10, sensitiveWords: ["scam", "假货", "a.b"] });
const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return (e as AppError).code;
  }
  return null;
};

describe("comment rules", () => {
  it("trims, collapses whitespace and strips control, zero-width and bidi characters", () => {
    expect(rules.clean("  hi\u0000 \u200b\n\tthere \u202e ").content).toBe("hi there");
  });
  it("normalizes full-width forms before checking", () => {
    expect(rules.clean("ＳＣＡＭ").content).toBe("****");
  });
  it("masks sensitive words, case-insensitively and in Chinese, escaping regex characters", () => {
    expect(rules.clean("Scam 假货").content).toBe("**** **");
    expect(rules.clean("a.b axb").content).toBe("*** axb");
    expect(rules.clean("fine").masked).toBe(false);
  });
  it("counts length in characters, not UTF-16 units", () => {
    expect(rules.clean("😀".repeat(10)).content).toBe("😀".repeat(10));
    expect(code(() => rules.clean("😀".repeat(11)))).toBe("COMMENT_TOO_LONG");
  });
  it("refuses what is empty after cleaning", () => {
    expect(code(() => rules.clean(" \u0000\u200b "))).toBe("EMPTY_COMMENT");
  });
  it("works with no word list", () => {
    expect(createCommentRules({ maxLength: 5, sensitiveWords: [] }).clean("scam").content).toBe("scam");
  });
});
