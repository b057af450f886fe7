import assert from "node:assert/strict";
import fc from "fast-check";
import t from "tap";
import { caseFold, foldUntilStable, MAX_MARKS_PER_LETTER } from "../common/names.js";
import { nameKey, nameProblem } from "../protocol.js";

// Real names, one script (or one writing system) each.
const LEGITIMATE = [
  "ana", "José", "Zoë", "München", "Ελένη", "Иван", "محمد", "नमस्ते", "田中", "たなか", "김철수", "user_42",
  "Nguyễn", "Łukasz", "Björk", "சென்னை", "ქართული", "עברית", "ภาษาไทย", "東京タワー", "ラーメン", "漢字かな",
  "Tanaka田中", "སྒྲུབ", "Usuario0", "_",
];

t.test("look-alike names have the same key", async (t) => {
  const pairs: Array<[string, string, string]> = [
    ["fullwatc\u04bb", "fullwatch", "Cyrillic shha for h"],
    ["\u0430na", "ana", "Cyrillic a"],
    ["ａｎａ", "ana", "full-width letters"],
    ["𝐚𝐧𝐚", "ana", "mathematical bold letters"],
    ["ß", "SS", "sharp s and its capital form"],
    ["ß", "ss", "sharp s and ss"],
    ["Straße", "STRASSE", "full case folding, not one character for one"],
    ["ANA", "ana", "case"],
    ["Jose\u0301", "José", "accents typed composed or decomposed"],
    ["ΟΔΟΣ", "οδος", "a word-final sigma"],
    ["ﬁona", "fiona", "a ligature"],
    ["rnaria", "maria", "r and n side by side pass for m"],
  ];
  for (const [a, b, why] of pairs) t.equal(nameKey(a), nameKey(b), `${JSON.stringify(a)} ≡ ${JSON.stringify(b)}: ${why}`);
});

t.test("names that only resemble each other at a glance stay different", async (t) => {
  const pairs: Array<[string, string]> = [["ana", "anna"], ["José", "Jose"], ["ana", "ama"], ["田中", "田巾"], ["Иван", "Ivan"]];
  for (const [a, b] of pairs) {
    t.not(nameKey(a), nameKey(b), `${a} ≠ ${b}`);
  }
});

t.test("keys keep digits, so that lists sorted by key stay in numeric order", async (t) => {
  const names = ["Usuario10", "Usuario2", "usuario1", "Usuario0", "maria", "ana", "paulo"];
  t.same(
    names.map(nameKey).sort(),
    ["ana", "maria", "paulo", "usuario0", "usuario1", "usuario10", "usuario2"],
  );
});

t.test("keys are composed (NFC) however the name was typed", async (t) => {
  // item 21: lower-casing after composing left some Greek keys decomposed:
  // capital Α with a perispomeni has no composed form, its small letter has (ᾶ).
  for (const name of ["Α\u0342", "Ά\u0345ννα", "Η\u0342λιος", "ΐ", "Ἄννα", "ᾼ", "Ελένη", "ǰ", "İstanbul", "Ǆemal", "Zoë"]) {
    const key = nameKey(name);
    t.equal(key, key.normalize("NFC"), `${name} has an NFC key`);
    t.equal(nameKey(name.normalize("NFD")), key, `${name} typed decomposed has the same key`);
    t.equal(nameKey(name.normalize("NFC")), key, `${name} typed composed has the same key`);
  }
});

t.test("caseFold folds the way Unicode's full case folding does for these", async (t) => {
  t.equal(caseFold("Straße"), "strasse");
  t.equal(caseFold("ΣΟΦΟΣ"), "σοφοσ", "no final-sigma special case");
  t.equal(caseFold("ſ"), "s");
});

t.test("invisible names and names with invisible characters are refused", async (t) => {
  const invisible = [
    "\u3164", "ana\u3164", "\u115f", "\u1160", "\uffa0", "\u2800", "a\u200bna", "\u200d", "ana\u2060", "an\u00ada",
    "ana\ufe0f", "\u202eana",
  ];
  for (const name of invisible) {
    t.equal(nameProblem(name), "A name cannot contain invisible characters", JSON.stringify(name));
  }
});

t.test("combining marks alone, first, or stacked are refused", async (t) => {
  t.equal(nameProblem("\u0301\u0301"), "A name cannot be made of combining marks only");
  t.equal(nameProblem("\u0301ana"), "A name cannot start with a combining mark");
  const stack = (n: number) => `x${"\u0317".repeat(n)}y`;
  t.equal(nameProblem(stack(MAX_MARKS_PER_LETTER)), undefined, `${MAX_MARKS_PER_LETTER} marks on a letter pass`);
  t.equal(
    nameProblem(stack(MAX_MARKS_PER_LETTER + 1)),
    `A name cannot stack more than ${MAX_MARKS_PER_LETTER} combining marks on one letter`,
  );
  t.equal(nameProblem(`Z${"\u0336\u0337\u0338\u0335".repeat(3)}algo`), `A name cannot stack more than ${MAX_MARKS_PER_LETTER} combining marks on one letter`);
});

t.test("names that mix scripts are refused, naming the scripts", async (t) => {
  const mixed: Array<[string, string]> = [
    ["fullwatc\u04bb", "Latin and Cyrillic"],
    ["\u0430na", "Cyrillic and Latin"],
    ["\u0391nna", "Greek and Latin"],
    ["pаypаl", "Latin and Cyrillic"],
    ["たなか김", "Hiragana and Hangul"],
    ["abc\u03b1\u0436", "Latin, Greek and Cyrillic"],
  ];
  for (const [name, scripts] of mixed) {
    t.equal(nameProblem(name), `A name cannot mix scripts (${scripts})`, JSON.stringify(name));
  }
});

t.test("real names in one script pass", async (t) => {
  for (const name of LEGITIMATE) t.equal(nameProblem(name), undefined, name);
});

t.test("look-alikes of the reserved name are reserved", async (t) => {
  for (const name of ["server", "SERVER", "ｓｅｒｖｅｒ"]) t.equal(nameProblem(name), 'The name "server" is reserved', name);
});

t.test("the earlier rules keep their sentences", async (t) => {
  t.equal(nameProblem(""), "A name cannot be empty");
  t.equal(nameProblem("a b"), "A name cannot contain spaces");
  t.equal(nameProblem("ana!"), "A name may contain only letters, digits and _");
});

// Names that pass: letters of one script (with digits and _), or anything the rules let through.
const SCRIPT_ALPHABETS = [
  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZßáéíóúçãõüñÆøåłŁǅſİı",
  "αβγδεζηθικλμνξοπρσςτυφχψωΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩάέήίόύώΐΰ",
  "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯіїєґһӏ",
  "ابتثجحخدذرزسشصضطظعغفقكلمنهوي",
  "कखगघचछजझटठडढणतथदधनपफबभमयरलवशषसह\u093e\u093f\u0940\u0941\u0942\u0947\u0948\u094b\u094c\u094d\u0902",
  "田中山川東京漢字たなかひらがなカタカナラーメン",
  "김철수한국어가나다라마바사",
  "0123456789_",
];
const passingName = fc
  .oneof(
    fc.constantFrom(...SCRIPT_ALPHABETS).chain((alphabet) =>
      fc.string({ unit: fc.constantFrom(...alphabet), minLength: 1, maxLength: 12 }),
    ),
    fc.string({ unit: "binary", minLength: 1, maxLength: 3 }),
  )
  .filter((name) => nameProblem(name) === undefined);

t.test("properties of nameKey", async (t) => {
  t.test("idempotent on names that pass", async (t) => {
    fc.assert(fc.property(passingName, (name) => nameKey(nameKey(name)) === nameKey(name)), { numRuns: 500 });
    t.pass("nameKey(nameKey(x)) === nameKey(x)");
  });

  t.test("blind to case on names that pass", async (t) => {
    fc.assert(
      fc.property(passingName, (name) => {
        assert.equal(nameKey(name.toUpperCase()), nameKey(name));
        assert.equal(nameKey(name.toLowerCase()), nameKey(name));
      }),
      { numRuns: 500 },
    );
    t.pass("nameKey(x.toUpperCase()) === nameKey(x)");
  });

  t.test("the shortcut for ASCII names agrees with the general path", async (t) => {
    const ascii = fc.string({ unit: fc.constantFrom(..."abcdmnrlIO01_MRN"), maxLength: 16 });
    fc.assert(fc.property(ascii, (name) => nameKey(name) === foldUntilStable(name)), { numRuns: 1000 });
    t.pass("the same keys both ways");
  });

  t.test("never throws, and always gives an NFC string, on any string", async (t) => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 64 }), (text) => {
        const key = nameKey(text);
        nameProblem(text);
        return typeof key === "string" && key === key.normalize("NFC") && nameKey(text.normalize("NFD")) === key;
      }),
      { numRuns: 1000 },
    );
    t.pass("no exception, NFC keys, the same key for the NFD form");
  });

  t.test("every letter, mark and digit alone: a stable, case-blind key", async (t) => {
    const failures: string[] = [];
    for (let codePoint = 0; codePoint <= 0x10ffff; codePoint++) {
      if (codePoint >= 0xd800 && codePoint <= 0xdfff) continue;
      const char = String.fromCodePoint(codePoint);
      if (!/[\p{L}\p{M}\p{Nd}]/u.test(char)) continue;
      const key = nameKey(char);
      if (nameKey(key) !== key || nameKey(char.toUpperCase()) !== key) failures.push(codePoint.toString(16));
    }
    t.same(failures, [], "no code point whose key moves when folded again or upper-cased");
  });
});
