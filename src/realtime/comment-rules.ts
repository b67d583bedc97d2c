import { AppError } from "../protocol/errors.js";

/**
 * What never shows as text: controls (Cc), every format character (Cf: soft hyphen, bidi marks and
 * overrides, zero-width characters, tag characters, the Mongolian vowel separator…), every default
 * ignorable code point (variation selectors, Hangul fillers, combining grapheme joiner, Khmer
 * inherent vowels, musical formatting), and blank-looking symbols (Braille blank, the musical null
 * notehead). Stripped, so none can split a filtered word or pass as a comment by itself. An emoji
 * sequence (a pictograph with its presentation selector, skin tone and joiners) is matched first and
 * kept whole.
 */
const EMOJI_OR_INVISIBLE =
  /(\p{Extended_Pictographic}\p{Emoji_Modifier}?\uFE0F?(?:\u200D\p{Extended_Pictographic}\p{Emoji_Modifier}?\uFE0F?)*)|[\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}\u2800\u{1D159}]/gu;
const stripInvisible = (text: string) => text.replace(EMOJI_OR_INVISIBLE, (_m, emoji: string | undefined) => emoji ?? "");

/** Words as they are compared: NFKC, lower case, no blanks, no duplicates. */
export function normalizeWords(words: readonly string[]): string[] {
  return [...new Set(words.map((w) => stripInvisible(w.normalize("NFKC")).trim().toLowerCase()).filter(Boolean))];
}

export interface CommentCleaner {
  /** Throws EMPTY_COMMENT or COMMENT_TOO_LONG; returns the text to publish and whether it was masked. */
  clean(raw: string): { content: string; masked: boolean };
}

function cleaner(maxLength: number, words: readonly string[]): CommentCleaner {
  const pattern =
    words.length === 0
      ? null
      : new RegExp(
          [...words]
            .sort((a, b) => b.length - a.length)
            .map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
            .join("|"),
          "giu",
        );
  return {
    clean(raw: string) {
      const text = stripInvisible(raw.normalize("NFKC")).replace(/\s+/g, " ").trim();
      if (text.length === 0) throw new AppError("EMPTY_COMMENT");
      const length = [...text].length;
      if (length > maxLength) {
        throw new AppError("COMMENT_TOO_LONG", `Comments are at most ${maxLength} characters (got ${length}).`);
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

/** Turns raw comment text into what the room shows: clean, bounded, with sensitive words masked. */
export function createCommentRules(opts: { maxLength: number; sensitiveWords: readonly string[] }) {
  const globalWords = normalizeWords(opts.sensitiveWords);
  const global = cleaner(opts.maxLength, globalWords);
  return {
    clean: (raw: string) => global.clean(raw),
    /** The words masked in every room (SENSITIVE_WORDS). */
    globalWords,
    /** A room's rules: its own words masked too, in the same single pass. */
    withWords(extra: readonly string[]): CommentCleaner {
      const own = normalizeWords(extra).filter((w) => !globalWords.includes(w));
      return own.length === 0 ? global : cleaner(opts.maxLength, [...globalWords, ...own]);
    },
  };
}

export type CommentRules = ReturnType<typeof createCommentRules>;
