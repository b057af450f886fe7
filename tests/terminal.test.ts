import t from "tap";
import { typeChunk, withoutLastChar } from "../common/terminal.js";

t.test("a chunk of keys is applied a character at a time", async (t) => {
  const submitted: string[] = [];
  let tabs = 0;
  const on = { submit: (line: string) => submitted.push(line), tab: () => tabs++ };
  t.equal(typeChunk("he", "llo\rwor\x7f\x7fhat\x07", on), "what", "Enter submits, Backspace deletes, other control characters are dropped");
  t.same(submitted, ["hello"]);
  t.equal(typeChunk("", "\t\tx\r\n", on), "");
  t.equal(tabs, 2);
  t.same(submitted, ["hello", "x"], "\\r\\n is one Enter");
  t.equal(typeChunk("a", "\tb", { submit: () => {} }), "ab", "Tab does nothing where nobody listens for it");
});

t.test("Backspace removes a whole character, emoji included", async (t) => {
  t.equal(withoutLastChar("olá🎉"), "olá");
  t.equal(withoutLastChar(""), "");
});

t.test("with multiline, a pasted paragraph stays one line with its breaks; a break at the chunk's end submits it", async (t) => {
  const submitted: string[] = [];
  const on = { submit: (line: string) => submitted.push(line) };
  t.equal(typeChunk("", "first\rsecond\rthird", on, { multiline: true }), "first\nsecond\nthird");
  t.same(submitted, [], "nothing sent while the paste has no final break");
  t.equal(typeChunk("", "one\r\ntwo\r", on, { multiline: true }), "");
  t.same(submitted, ["one\ntwo"], "a paste ending with a break is one message");
  t.equal(typeChunk("typed", "\r", on, { multiline: true }), "");
  t.same(submitted, ["one\ntwo", "typed"], "Enter alone submits");
  submitted.length = 0;
  t.equal(typeChunk("", "a\rb\r", on), "", "without multiline every break submits (names, the launcher)");
  t.same(submitted, ["a", "b"]);
});
