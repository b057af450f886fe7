import t from "tap";
import { typeChunk, withoutLastChar } from "../terminal.js";

t.test("a chunk of keys is applied a character at a time", async (t) => {
  const submitted: string[] = [];
  let tabs = 0;
  const on = { submit: (line: string) => submitted.push(line), tab: () => tabs++ };
  t.equal(typeChunk("he", "llo\rwor\x7f\x7fhat\x07", on), "what", "Enter submits, Backspace deletes, other control characters are dropped");
  t.same(submitted, ["hello"]);
  t.equal(typeChunk("", "\t\tx\r\n", on), "");
  t.equal(tabs, 2);
  t.same(submitted, ["hello", "x", ""]);
  t.equal(typeChunk("a", "\tb", { submit: () => {} }), "ab", "Tab does nothing where nobody listens for it");
});

t.test("Backspace removes a whole character, emoji included", async (t) => {
  t.equal(withoutLastChar("olá🎉"), "olá");
  t.equal(withoutLastChar(""), "");
});
