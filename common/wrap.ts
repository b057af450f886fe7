/**
 * Word wrapping by terminal columns, for both full-screen views (the
 * client's conversation, the launcher's panes). Pure: no ink, no terminal.
 *
 * Widths are what string-width says a terminal gives them: wide (CJK)
 * characters and emoji take two columns, combining marks none. Rows break
 * at spaces; only a word wider than a whole row is cut, and then between
 * graphemes, never inside one (an emoji with its skin tone, "é" written
 * as e + U+0301). The spaces where a row breaks are dropped; every other
 * character is kept, once, in order.
 */
import stringWidth from "string-width";

const GRAPHEMES = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/** Where a row may break: spaces and tabs, not the no-break spaces (U+00A0, U+2007, U+202F). */
const BREAKING_SPACE = /^[ \t\u1680\u2000-\u2006\u2008-\u200a\u205f\u3000]$/;

/** A run of graphemes of one kind: the spaces between words, or a word. */
interface Token {
  kind: "space" | "word";
  graphemes: string[];
  text: string;
  columns: number;
}

/**
 * `text` as rows at most `width` columns wide (at least one column is
 * assumed); each line break starts a new row. A row can be wider only when
 * it is a single grapheme wider than the width (a CJK character in one
 * column).
 */
export function wrap(text: string, width: number): string[] {
  const columns = Math.max(1, Math.floor(width));
  return text.split("\n").flatMap((line) => wrapLine(line, columns));
}

function wrapLine(line: string, columns: number): string[] {
  // Most lines fit: one measure instead of a segmentation keeps a full redraw cheap.
  if (stringWidth(line) <= columns) return [line];
  const rows = new Rows(columns);
  for (const token of tokens(line)) {
    if (token.kind === "space") rows.addSpace(token);
    else rows.addWord(token);
  }
  return rows.finish();
}

/** The line's graphemes grouped into runs of spaces and words. */
function tokens(line: string): Token[] {
  const runs: Token[] = [];
  for (const { segment } of GRAPHEMES.segment(line)) {
    const kind = BREAKING_SPACE.test(segment) ? "space" : "word";
    const last = runs.at(-1);
    if (last?.kind === kind) last.graphemes.push(segment);
    else runs.push({ kind, graphemes: [segment], text: "", columns: 0 });
  }
  for (const run of runs) {
    run.text = run.graphemes.join("");
    run.columns = stringWidth(run.text);
  }
  return runs;
}

/** The rows of one line as they fill up. */
class Rows {
  private readonly done: string[] = [];
  private row = "";
  private used = 0;
  /** Length of the row up to the end of its last word: what a break keeps (0 while it holds only an indent). */
  private kept = 0;

  constructor(private readonly columns: number) {}

  /** Spaces that fit stay (an indent, a gap); spaces that do not end the row, and are dropped. */
  addSpace(space: Token): void {
    if (this.fits(space.columns)) this.append(space.text, space.columns);
    else if (this.hasWord) this.breakRow();
  }

  /** A word goes whole on this row or the next; only one wider than a whole row is cut. */
  addWord(word: Token): void {
    if (!this.fits(word.columns)) {
      if (this.hasWord) this.breakRow();
      else this.clear(); // an indent the word does not fit behind: the word matters more
    }
    if (this.fits(word.columns)) this.appendWord(word.text, word.columns);
    else this.cut(word);
  }

  finish(): string[] {
    this.done.push(this.row);
    return this.done;
  }

  private get hasWord(): boolean {
    return this.kept > 0;
  }

  /** A word wider than a row, a grapheme at a time from the start of a row. */
  private cut(word: Token): void {
    for (const grapheme of word.graphemes) {
      const columns = stringWidth(grapheme);
      if (!this.fits(columns) && this.hasWord) this.breakRow();
      this.appendWord(grapheme, columns);
    }
  }

  private fits(columns: number): boolean {
    return this.used + columns <= this.columns;
  }

  private append(text: string, columns: number): void {
    this.row += text;
    this.used += columns;
  }

  private appendWord(text: string, columns: number): void {
    this.append(text, columns);
    this.kept = this.row.length;
  }

  /** Ends the row; the spaces after its last word are where it broke, and go. */
  private breakRow(): void {
    this.done.push(this.row.slice(0, this.kept));
    this.clear();
  }

  private clear(): void {
    this.row = "";
    this.used = 0;
    this.kept = 0;
  }
}

/**
 * `wrap`, with each line's continuation rows indented under its text: under
 * the description of a help line ("  /ban name [reason]  ban (also /banir)"),
 * else under the line's own indentation. For tables of two columns, whose
 * second column would otherwise wrap back to the first.
 */
export function wrapHanging(text: string, width: number): string[] {
  const columns = Math.max(1, Math.floor(width));
  return text.split("\n").flatMap((line) => {
    const rows = wrapLine(line, columns);
    const indent = hangingIndent(line, columns);
    if (rows.length <= 1 || indent === 0) return rows;
    const rest = wrapLine(rows.slice(1).join(" "), columns - indent);
    return [rows[0]!, ...rest.map((row) => " ".repeat(indent) + row)];
  });
}

/** Where a line's continuation rows start: after its first run of two or more spaces (a description), or under its leading spaces; at most half the width. */
function hangingIndent(line: string, columns: number): number {
  const described = /^(\s*\S.*?\s{2,})\S/.exec(line);
  const indent = stringWidth(described ? described[1]! : (/^\s*/.exec(line)?.[0] ?? ""));
  return indent <= columns / 2 ? indent : 0;
}
