import { AppError } from "../protocol/errors.js";

// C0/C1 controls, DEL, zero-width and bidi-override characters: invisible or able to reorder text.
// eslint-disable-next-line no-control-regex -- stripping control characters is the point
const UNSAFE_CHARS = /[\u0000-\u001F\u007F-\u009F\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/g;

/** Turns raw comment text into what the room shows: clean, bounded, with sensitive words masked. */
export function createCommentRules(opts: { maxLength: number; sensitiveWords: readonly string[] }) {
  const words = [...new Set(opts.sensitiveWords.map((w) => w.normalize("NFKC").toLowerCase()).filter(Boolean))];
  const pattern =
    words.length === 0
      ? null
      : new RegExp(
          words
            .sort((a, b) => b.length - a.length)
            .map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
            .join("|"),
          "giu",
        );

  return {
    /** Throws EMPTY_COMMENT or COMMENT_TOO_LONG; returns the text to publish and whether it was masked. */
    clean(raw: string): { content: string; masked: boolean } {
      const text = raw.normalize("NFKC").replace(UNSAFE_CHARS, "").replace(/\s+/g, " ").trim();
      if (text.length === 0) throw new AppError("EMPTY_COMMENT");
      const length = [...text].length;
      if (length > opts.maxLength) {
        throw new AppError("COMMENT_TOO_LONG", `Comments are at most ${opts.maxLength} characters (got ${length}).`);
      }
      if (!pattern) return { content: text, masked: false };
      let masked = false;
      const content = text.replace(pattern, (m) => {
        masked = true;
        return "*".repeat([...m].length);
      });
      return { content, masked };
    },
  };
}

export type CommentRules = ReturnType<typeof createCommentRules>;
