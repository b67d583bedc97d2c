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
  it("strips every format and invisible character, so none can split a word or pass as text", () => {
    // Soft hyphen, Arabic letter mark, Mongolian vowel separator, tag characters, word joiner.
    for (const hidden of ["\u00AD", "\u061C", "\u180E", "\u{E0073}", "\u{E007F}", "\u2060", "\u034F", "\uFE0F", "\u115F", "\u17B4", "\u3164", "\u2800", "\u{1D173}"]) {
      expect(rules.clean(`sc${hidden}am`).content, `U+${hidden.codePointAt(0)!.toString(16)}`).toBe("****");
    }
    // Blank-looking letters and fillers: Hangul fillers, Braille blank, Khmer inherent vowels.
    for (const blank of ["\u3164", "\u2800", "\uFFA0", "\u115F\u1160", "\u{1D159}", "\u00AD\u2800 \u3164"]) {
      expect(code(() => rules.clean(blank)), JSON.stringify(blank)).toBe("EMPTY_COMMENT");
    }
    expect(rules.clean("a\u3164b \u2800c").content).toBe("ab c");
    // Letters, CJK and emoji stay; an emoji keeps its presentation selector and joiners.
    expect(createCommentRules({ maxLength: 40, sensitiveWords: [] }).clean("ok 你好 😀 ❤\uFE0F 👩\u200D💻").content).toBe("ok 你好 😀 ❤\uFE0F 👩\u200D💻");
  });
  it("works with no word list", () => {
    expect(createCommentRules({ maxLength: 5, sensitiveWords: [] }).clean("scam").content).toBe("scam");
  });
  it("adds a room's own words to the global ones, in one pass, leaving other rooms alone", () => {
    const room = rules.withWords([" Fake ", "ＦＡＫＥ", "scam", ""]);
    expect(room.clean("fake scam").content).toBe("**** ****");
    expect(rules.clean("fake scam").content).toBe("fake ****");
    expect(rules.withWords(["SCAM"]).clean("scam x").content).toBe("**** x");
    expect(createCommentRules({ maxLength: 20, sensitiveWords: [] }).withWords(["山寨"]).clean("山寨货").content).toBe("**货");
  });
});
