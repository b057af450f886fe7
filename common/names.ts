/**
 * How names compare, and which names are refused because they mislead: pure
 * functions, no I/O. protocol.ts's `nameKey()` and `nameProblem()` use them.
 *
 * Two names are the same name when their *skeletons* are equal: the key folds
 * compatibility and width forms (`ａｎａ`, `𝐚𝐧𝐚` → `ana`), case (`ß` → `ss`),
 * and look-alike characters as Unicode's confusables table (UTS #39) maps them
 * (Cyrillic `а`, `һ` → Latin `a`, `h`). Names that are invisible, made of
 * combining marks, stacked with marks, or that mix scripts are refused
 * outright, since no key can make those readable.
 */
import { CONFUSABLES_DATA } from "./names-confusables.js";

// ---------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------

/**
 * Most combining marks in a row on one letter (counted in composed form, so an
 * accented Latin letter has none). Three, not two: a Tibetan letter carries a
 * subjoined consonant pair and a vowel sign (སྒྲུ). Stacks of ten are the
 * "Zalgo" text that draws over the lines around it.
 */
export const MAX_MARKS_PER_LETTER = 3;

/** Rounds of folding before the key is taken as stable (each round usually settles it; see `nameKey`). */
export const MAX_KEY_ROUNDS = 4;

/** Code points whose scripts are remembered; the cache is emptied when full, so memory stays bounded. */
export const SCRIPT_CACHE_SIZE = 4096;

// ---------------------------------------------------------------------------
// The key
// ---------------------------------------------------------------------------

/**
 * ASCII digits the key keeps as they are, though UTS #39 maps `0` to `O`
 * and `1` to `l`: the server and the client list users in key order, and
 * `Usuario1`, `Usuario2`... must stay in numeric order. (Once lists are
 * sorted by a display order instead, this can be empty.)
 */
export const KEPT_DIGITS = "0123456789";

const CONFUSABLES: ReadonlyMap<number, string> = parseConfusables(CONFUSABLES_DATA);

function parseConfusables(data: string): Map<number, string> {
  const map = new Map<number, string>();
  for (const pair of data.split(" ")) {
    const [source, target] = pair.split(":") as [string, string];
    map.set(parseInt(source, 16), String.fromCodePoint(...target.split(".").map((hex) => parseInt(hex, 16))));
  }
  for (const digit of KEPT_DIGITS) map.delete(digit.codePointAt(0)!);
  return map;
}

const DEFAULT_IGNORABLES = /\p{Default_Ignorable_Code_Point}/gu;

/**
 * Full case folding, the way Unicode's CaseFolding.txt (C+F) does it for
 * nearly every letter: upper-casing first expands `ß` to `SS` and brings
 * `ſ`, `ͅ` and the like to their capital, then lower-casing lands every case
 * variant on one form. JavaScript has no `casefold()`; this pair is what is
 * built in. Lower-casing writes a word-final sigma as `ς`: folding makes it `σ`.
 */
export function caseFold(text: string): string {
  return text.toUpperCase().toLowerCase().replaceAll("ς", "σ");
}

/**
 * The UTS #39 skeleton of an NFD string: default-ignorable code points
 * dropped, every other one replaced by its prototype from confusables.txt.
 */
function mapConfusables(nfd: string): string {
  let out = "";
  for (const char of nfd.replace(DEFAULT_IGNORABLES, "")) out += CONFUSABLES.get(char.codePointAt(0)!) ?? char;
  return out;
}

/**
 * One round of folding: compatibility and width forms (NFKC), case, then
 * look-alikes (NFD, the table, NFD again: TR39's skeleton), then case again,
 * since a prototype may be a capital (`О` → `O`). Composed at the end (NFC),
 * so a key is one string however its accents were typed. Last, `rn` is
 * written `m`: the table maps `m` to `rn` and nothing to `m`, so this changes
 * no comparison, and keeps `maria` sorting among the m's.
 */
function foldRound(text: string): string {
  const folded = caseFold(text.normalize("NFKC")).normalize("NFD");
  return caseFold(mapConfusables(folded).normalize("NFD")).normalize("NFC").replaceAll("rn", "m");
}

/**
 * The form under which names are compared: two names with the same key are
 * the same name. Case folding runs before the confusables table so that the
 * key ignores case (UTS #39 maps `I` to `l` but leaves `i`), and the rounds
 * repeat until the key no longer changes, so `nameKey(nameKey(x)) === nameKey(x)`.
 * Never throws. Not for display: `nameKey("Ελένη")` is `ꞓλꞓ́vn̩`.
 */
export function nameSkeleton(name: string): string {
  return PLAIN_NAME.test(name) ? plainSkeleton(name) : foldUntilStable(name);
}

/** `nameSkeleton` without its shortcut for ASCII names (exported so that tests can check they agree). */
export function foldUntilStable(name: string): string {
  let key = name;
  for (let round = 0; round < MAX_KEY_ROUNDS; round++) {
    const next = foldRound(key);
    if (next === key) break;
    key = next;
  }
  return key;
}

// Most names are ASCII letters, digits and `_`. For them the rounds come down
// to lower case and `rn` → `m` (no other ASCII letter, digit or `_` is
// folded), about twenty times faster; tests check both paths agree.
const PLAIN_NAME = /^[A-Za-z0-9_]*$/;

function plainSkeleton(name: string): string {
  return name.toLowerCase().replaceAll("rn", "m");
}

// ---------------------------------------------------------------------------
// What is refused
// ---------------------------------------------------------------------------

// Default-ignorable code points (zero-width characters, the Hangul fillers
// U+115F, U+1160, U+3164, U+FFA0, bidi controls, variation selectors...) draw
// nothing; U+2800 BRAILLE PATTERN BLANK draws a blank.
const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\u2800]/u;

/** Why a name is refused for invisible characters, or undefined. Checked before the allowed characters, so the reason names the real problem. */
export function invisibleProblem(name: string): string | undefined {
  return INVISIBLE.test(name) ? "A name cannot contain invisible characters" : undefined;
}

const MARKS_ONLY = /^\p{M}+$/u;
const STARTS_WITH_MARK = /^\p{M}/u;
const MARK_STACK = new RegExp(`\\p{M}{${MAX_MARKS_PER_LETTER + 1}}`, "u");

/** Why a name's combining marks are refused, or undefined. */
export function markProblem(name: string): string | undefined {
  const composed = name.normalize("NFC");
  if (MARKS_ONLY.test(composed)) return "A name cannot be made of combining marks only";
  if (STARTS_WITH_MARK.test(composed)) return "A name cannot start with a combining mark";
  if (MARK_STACK.test(composed)) {
    return `A name cannot stack more than ${MAX_MARKS_PER_LETTER} combining marks on one letter`;
  }
  return undefined;
}

/** Why a name is refused for mixing scripts, or undefined. */
export function scriptProblem(name: string): string | undefined {
  const scripts = mixedScripts(name);
  return scripts === undefined ? undefined : `A name cannot mix scripts (${listInEnglish(scripts)})`;
}

// ---------------------------------------------------------------------------
// Scripts (UTS #39 "single script", with its CJK exceptions)
// ---------------------------------------------------------------------------

// Every script of Unicode 17 but Common, Inherited and Unknown, by long name.
// Characters of Common and Inherited (punctuation, most combining marks) go
// with any script. A name this Node's regular expressions do not know is left
// out: its letters are then unassigned here, and not letters either.
const SCRIPT_NAMES = [
  "Adlam", "Caucasian_Albanian", "Ahom", "Arabic", "Imperial_Aramaic", "Armenian", "Avestan", "Balinese",
  "Bamum", "Bassa_Vah", "Batak", "Bengali", "Beria_Erfe", "Bhaiksuki", "Bopomofo", "Brahmi", "Braille",
  "Buginese", "Buhid", "Chakma", "Canadian_Aboriginal", "Carian", "Cham", "Cherokee", "Chorasmian", "Coptic",
  "Cypro_Minoan", "Cypriot", "Cyrillic", "Devanagari", "Dives_Akuru", "Dogra", "Deseret", "Duployan",
  "Egyptian_Hieroglyphs", "Elbasan", "Elymaic", "Ethiopic", "Garay", "Georgian", "Glagolitic", "Gunjala_Gondi",
  "Masaram_Gondi", "Gothic", "Grantha", "Greek", "Gujarati", "Gurung_Khema", "Gurmukhi", "Hangul", "Han",
  "Hanunoo", "Hatran", "Hebrew", "Hiragana", "Anatolian_Hieroglyphs", "Pahawh_Hmong", "Nyiakeng_Puachue_Hmong",
  "Old_Hungarian", "Old_Italic", "Javanese", "Kayah_Li", "Katakana", "Kawi", "Kharoshthi", "Khmer", "Khojki",
  "Khitan_Small_Script", "Kannada", "Kirat_Rai", "Kaithi", "Tai_Tham", "Lao", "Latin", "Lepcha", "Limbu",
  "Linear_A", "Linear_B", "Lisu", "Lycian", "Lydian", "Mahajani", "Makasar", "Mandaic", "Manichaean", "Marchen",
  "Medefaidrin", "Mende_Kikakui", "Meroitic_Cursive", "Meroitic_Hieroglyphs", "Malayalam", "Modi", "Mongolian",
  "Mro", "Meetei_Mayek", "Multani", "Myanmar", "Nag_Mundari", "Nandinagari", "Old_North_Arabian", "Nabataean",
  "Newa", "Nko", "Nushu", "Ogham", "Ol_Chiki", "Ol_Onal", "Old_Turkic", "Oriya", "Osage", "Osmanya",
  "Old_Uyghur", "Palmyrene", "Pau_Cin_Hau", "Old_Permic", "Phags_Pa", "Inscriptional_Pahlavi",
  "Psalter_Pahlavi", "Phoenician", "Miao", "Inscriptional_Parthian", "Rejang", "Hanifi_Rohingya", "Runic",
  "Samaritan", "Old_South_Arabian", "Saurashtra", "SignWriting", "Shavian", "Sharada", "Siddham", "Sidetic",
  "Khudawadi", "Sinhala", "Sogdian", "Old_Sogdian", "Sora_Sompeng", "Soyombo", "Sundanese", "Sunuwar",
  "Syloti_Nagri", "Syriac", "Tagbanwa", "Takri", "Tai_Le", "New_Tai_Lue", "Tamil", "Tangut", "Tai_Viet",
  "Tai_Yo", "Telugu", "Tifinagh", "Tagalog", "Thaana", "Thai", "Tibetan", "Tirhuta", "Tangsa", "Todhri",
  "Tolong_Siki", "Toto", "Tulu_Tigalari", "Ugaritic", "Vai", "Vithkuqi", "Warang_Citi", "Wancho", "Old_Persian",
  "Cuneiform", "Yezidi", "Yi", "Zanabazar_Square",
] as const;

/**
 * The writing systems that combine scripts (UTS #39's Jpan, Kore, Hanb): a
 * letter of a script counts for each system it belongs to, so Han with kana,
 * or Han with Hangul, is one writing system, but kana with Hangul is not.
 * Latin goes with each of them, as UTS #39's "highly restrictive" level
 * allows (`Tanaka田中`): no Latin letter passes for a Han, kana or Hangul one.
 */
const WRITING_SYSTEMS: Readonly<Record<string, readonly string[]>> = {
  Latin: ["Japanese", "Korean", "Han with Bopomofo"],
  Han: ["Japanese", "Korean", "Han with Bopomofo"],
  Hiragana: ["Japanese"],
  Katakana: ["Japanese"],
  Hangul: ["Korean"],
  Bopomofo: ["Han with Bopomofo"],
};

// The scripts this Node's regular expressions know (an older Node may lack the newest).
const SCRIPTS: readonly string[] = SCRIPT_NAMES.filter((name) => {
  try {
    return new RegExp(`\\p{Script_Extensions=${name}}`, "u") !== undefined;
  } catch {
    return false;
  }
});

// One regular expression per question rather than one per script: a
// character is tested against every script in one call, group i+1 capturing
// when it belongs to SCRIPTS[i]. A lookahead per script lets every
// group match (`(?=(X)|)` always succeeds, capturing when X matches); an
// alternation would stop at the first.
const SCRIPT_EXTENSIONS = new RegExp(`^${SCRIPTS.map((name) => `(?=(\\p{Script_Extensions=${name}})|)`).join("")}`, "u");
const SCRIPT = new RegExp(`^(?:${SCRIPTS.map((name) => `(\\p{Script=${name}})`).join("|")})`, "u");

interface CharScripts {
  /** The script to name in a refusal, or undefined for Common and Inherited characters. */
  label: string | undefined;
  /** Scripts and writing systems this character may belong to; empty: any. */
  sets: ReadonlySet<string>;
}

const scriptCache = new Map<string, CharScripts>();
const DIGIT_OR_UNDERSCORE = /^[\p{Nd}_]$/u;
const ASCII_NAME = /^[A-Za-z0-9_]*$/;

function charScripts(char: string): CharScripts {
  let found = scriptCache.get(char);
  if (found !== undefined) return found;
  const usedIn = DIGIT_OR_UNDERSCORE.test(char) ? [] : matchedScripts(SCRIPT_EXTENSIONS, char);
  const label = matchedScripts(SCRIPT, char)[0] ?? usedIn[0];
  const sets = new Set<string>(usedIn.flatMap((script) => [script, ...(WRITING_SYSTEMS[script] ?? [])]));
  found = { label: label?.replaceAll("_", " "), sets };
  if (scriptCache.size >= SCRIPT_CACHE_SIZE) scriptCache.clear();
  scriptCache.set(char, found);
  return found;
}

/** The SCRIPTS whose group captured in `pattern` matched against `char`. */
function matchedScripts(pattern: RegExp, char: string): string[] {
  const match = pattern.exec(char);
  if (match === null) return [];
  return SCRIPTS.filter((_, i) => match[i + 1] !== undefined);
}

/**
 * The scripts a name mixes, in order of appearance, or undefined when one
 * script (or writing system) covers every character: the resolved script set
 * of UTS #39, section 5.1, computed with Script_Extensions.
 */
function mixedScripts(name: string): string[] | undefined {
  if (ASCII_NAME.test(name)) return undefined; // the common case: Latin, digits and _
  let common: Set<string> | undefined;
  const labels: string[] = [];
  for (const char of name.normalize("NFC")) {
    const { label, sets } = charScripts(char);
    if (sets.size === 0) continue;
    if (label !== undefined && !labels.includes(label)) labels.push(label);
    common = common === undefined ? new Set(sets) : new Set([...common].filter((set) => sets.has(set)));
  }
  return common !== undefined && common.size === 0 ? labels : undefined;
}

/** `a`, `a and b`, `a, b and c`. */
function listInEnglish(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}
