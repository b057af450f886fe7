/** The word wrapper both full-screen views use: rows by terminal columns, words kept whole when they fit. */
import fc from "fast-check";
import stringWidth from "string-width";
import t from "tap";
import { wrap } from "../common/wrap.js";

const GRAPHEMES = new Intl.Segmenter(undefined, { granularity: "grapheme" });
const graphemesOf = (text: string) => [...GRAPHEMES.segment(text)].map((s) => s.segment);
/** Where the wrapper may break a row (what it may drop there). */
const SPACES = /[ \t\u1680\u2000-\u2006\u2008-\u200a\u205f\u3000]+/;
const wordsOf = (text: string) => text.split(new RegExp(`${SPACES.source}|\\n`)).filter((word) => word !== "");
const withoutSpaces = (text: string) => text.replace(new RegExp(SPACES.source, "g"), "").replace(/\n/g, "");

/** Graphemes a chat or a log line is made of: ASCII, accents both ways, CJK, emoji with modifiers and joiners, no-break spaces. */
const grapheme = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789.,:/-") },
  { weight: 2, arbitrary: fc.constantFrom("é", "e\u0301", "ç", "ã", "ñ", "\u00a0", "\u200b") },
  { weight: 2, arbitrary: fc.constantFrom("漢", "字", "あ", "한", "ｱ", "Ｗ") },
  { weight: 2, arbitrary: fc.constantFrom("🎉", "👍🏽", "👩‍👩‍👧", "🇧🇷", "1️⃣") },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 }) },
);
const word = fc.array(grapheme, { minLength: 1, maxLength: 14 }).map((g) => g.join(""));
const space = fc.constantFrom(" ", " ", " ", "  ", "\t", "\u3000");
const text = fc
  .array(fc.oneof({ weight: 5, arbitrary: word }, { weight: 3, arbitrary: space }, { weight: 1, arbitrary: fc.constant("\n") }), { maxLength: 30 })
  .map((parts) => parts.join(""));
const width = fc.integer({ min: 1, max: 40 });

t.test("every row fits the width, unless it is one grapheme wider than the width", async () => {
  fc.assert(
    fc.property(text, width, (text, width) =>
      wrap(text, width).every((row) => stringWidth(row) <= width || graphemesOf(row).length === 1),
    ),
  );
});

t.test("nothing but the spaces at a break is lost, and nothing is repeated or moved", async () => {
  fc.assert(fc.property(text, width, (text, width) => withoutSpaces(wrap(text, width).join("")) === withoutSpaces(text)));
});

t.test("joining the rows gives back the text's words when each fits in a row: no word is cut", async () => {
  const fitting = (width: number) => text.filter((text) => wordsOf(text).every((word) => stringWidth(word) <= width));
  fc.assert(
    fc.property(
      width.chain((width) => fc.tuple(fc.constant(width), fitting(width))),
      ([width, text]) => {
        const rows = wrap(text, width);
        return JSON.stringify(rows.flatMap(wordsOf)) === JSON.stringify(wordsOf(text));
      },
    ),
  );
});

t.test("rows are cut between graphemes, never inside one", async () => {
  fc.assert(
    fc.property(text, width, (text, width) =>
      JSON.stringify(wrap(text, width).flatMap((row) => graphemesOf(withoutSpaces(row)))) === JSON.stringify(graphemesOf(withoutSpaces(text))),
    ),
  );
});

t.test("each line break starts a row; a text that fits is one row, as it is", async () => {
  fc.assert(
    fc.property(text, width, (text, width) => wrap(text, width).length >= text.split("\n").length),
  );
  fc.assert(fc.property(text, (text) => JSON.stringify(wrap(text, 1000)) === JSON.stringify(text.split("\n"))));
});

t.test("at spaces, by the terminal's width", async (t) => {
  t.same(wrap("the quick brown fox", 9), ["the quick", "brown fox"]);
  t.same(wrap("the quick brown fox", 19), ["the quick brown fox"]);
  t.same(wrap("", 10), [""]);
  t.same(wrap("olá, tudo bem com você?", 12), ["olá, tudo", "bem com", "você?"], "never vo|cê");
  t.same(wrap("a    b", 3), ["a", "b"], "spaces at a break are dropped");
  t.same(wrap("a\u00a0b c", 3), ["a\u00a0b", "c"], "a no-break space is no place to break");
  t.same(wrap("ab\n\ncd", 5), ["ab", "", "cd"], "line breaks are kept");
  for (const width of [5, 7, 11, 20]) {
    for (const row of wrap("Vamos estudar para a prova de sexta-feira juntos, você topa?", width)) t.ok(row.length <= width, `${width}: ${row}`);
  }
});

t.test("an indent stays while the word after it fits behind it", async (t) => {
  t.same(wrap("  indented", 20), ["  indented"]);
  t.same(wrap("    second line", 20), ["    second line"]);
  t.same(wrap("    abcdefgh", 10), ["abcdefgh"], "a word that fits in a row is not cut to keep an indent");
});

t.test("a word wider than a row is cut, from the start of a row", async (t) => {
  t.same(wrap("abcdefg", 3), ["abc", "def", "g"]);
  t.same(wrap("você", 3), ["voc", "ê"]);
  t.same(wrap("abcdefghij klm", 4), ["abcd", "efgh", "ij", "klm"]);
  t.same(wrap("see https://example.com/a", 10), ["see", "https://ex", "ample.com/", "a"]);
  t.same(wrap("e\u0301e\u0301e\u0301", 2), ["e\u0301e\u0301", "e\u0301"], "between graphemes, not inside one");
  t.same(wrap("👍🏽👍🏽👍🏽", 4), ["👍🏽👍🏽", "👍🏽"], "never inside a character");
});

t.test("wide characters and emoji take two columns", async (t) => {
  t.same(wrap("🎉🎉🎉", 4), ["🎉🎉", "🎉"]);
  t.same(wrap("漢字漢字漢", 4), ["漢字", "漢字", "漢"]);
  t.same(wrap("ab漢", 3), ["ab", "漢"], "a wide character that does not fit goes to the next row");
  t.same(wrap("漢字 漢字漢字", 8), ["漢字", "漢字漢字"], "a wide word moves whole to the next row");
  t.same(wrap("漢", 1), ["漢"], "a character wider than the row still shows, alone");
  const wide = "漢字".repeat(40); // 80 characters, 160 columns
  const rows = wrap(wide, 78);
  t.same(rows.join(""), wide, "nothing lost");
  t.equal(rows.length, 3);
});
