import t from "tap";
import { CONFUSABLES_DATA, CONFUSABLES_VERSION } from "../common/names-confusables.js";
import { ENTRIES_PER_LINE, parseConfusables, renderModule } from "../scripts/generate-confusables.js";

const SAMPLE = `# confusables.txt
# Date: 2025-07-22, 05:49:37 GMT
# Version: 17.0.0
#
05AD ;\t0596 ;\tMA\t# ( ֭ → ֖ ) HEBREW ACCENT DEHI → HEBREW ACCENT TIPEHA\t#

0430 ;\t0061 ;\tMA\t# ( а → a ) CYRILLIC SMALL LETTER A → LATIN SMALL LETTER A\t#
006D ;\t0072 006E ;\tMA\t# ( m → rn ) LATIN SMALL LETTER M → LATIN SMALL LETTER R, LATIN SMALL LETTER N\t#
`;

t.test("parses confusables.txt: version, date, and each mapping with its code points", async (t) => {
  const table = parseConfusables(SAMPLE);
  t.equal(table.version, "17.0.0");
  t.equal(table.date, "2025-07-22, 05:49:37 GMT");
  t.same(table.entries, [[0x5ad, [0x596]], [0x430, [0x61]], [0x6d, [0x72, 0x6e]]]);
  t.throws(() => parseConfusables("0430 0061\n"), /Cannot parse confusables line/);
});

t.test("writes hex pairs only, never the look-alike characters themselves", async (t) => {
  const module = renderModule(parseConfusables(SAMPLE));
  t.match(module, '"5AD:596 430:61 6D:72.6E"');
  t.match(module, 'CONFUSABLES_VERSION = "17.0.0"');
  t.notMatch(module, /[^\x00-\x7f©]/, "ASCII only, but for the copyright sign");
});

t.test("the checked-in table is Unicode 17's, in the generator's format", async (t) => {
  t.equal(CONFUSABLES_VERSION, "17.0.0");
  const pairs = CONFUSABLES_DATA.split(" ");
  t.equal(pairs.length, 6565, "every mapping of confusables.txt 17.0.0");
  t.ok(pairs.every((pair) => /^[0-9A-F]+:[0-9A-F]+(\.[0-9A-F]+)*$/.test(pair)), "each SOURCE:PROTOTYPE in hex");
  t.ok(pairs.includes("4BB:68"), "Cyrillic shha is h");
  t.ok(ENTRIES_PER_LINE > 0);
});
