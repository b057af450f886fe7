/**
 * What the two full-screen views (client/view.tsx, launcher/view.tsx) share:
 * the alternate screen, the terminal's size, and typed text turned into edits.
 * Their word wrapper is pure and apart, in wrap.ts.
 */
import { render, useStdout } from "ink";
import { useEffect, useState, type ReactElement } from "react";

const ENTER_ALTERNATE_SCREEN = "\x1b[?1049h";
const LEAVE_ALTERNATE_SCREEN = "\x1b[?1049l";

/** Renders on the alternate screen; `close()` unmounts and gives the terminal back as it was. */
export function renderFullScreen(node: ReactElement) {
  process.stdout.write(ENTER_ALTERNATE_SCREEN);
  const app = render(node, { exitOnCtrlC: false });
  return {
    app,
    close() {
      app.unmount();
      process.stdout.write(LEAVE_ALTERNATE_SCREEN);
    },
  };
}

/** The terminal's columns and rows, kept current as it is resized. */
export function useTerminalSize(): { columns: number; rows: number } {
  const { stdout } = useStdout();
  const [size, setSize] = useState({ columns: stdout.columns || 80, rows: stdout.rows || 24 });
  useEffect(() => {
    const onResize = () => setSize({ columns: stdout.columns, rows: stdout.rows });
    stdout.on("resize", onResize);
    return () => {
      stdout.off("resize", onResize);
    };
  }, [stdout]);
  return size;
}

/** The text without its last character (a whole code point: never half an emoji). */
export function withoutLastChar(text: string): string {
  return [...text].slice(0, -1).join("");
}

/**
 * Applies a chunk of typed text to an input line and returns the new line.
 * Keys that arrive together (a paste, tmux send-keys) come as one string, so
 * it goes a character at a time: Enter submits the line so far, Backspace
 * deletes, Tab calls `tab`, other control characters are dropped.
 *
 * With `multiline`, a line break followed by more text in the same chunk is
 * part of a pasted text and stays in the line; only a break that ends the
 * chunk submits, so a pasted paragraph becomes one message.
 */
export function typeChunk(
  input: string,
  chunk: string,
  on: { submit(line: string): void; tab?(): void },
  options: { multiline?: boolean } = {},
): string {
  let line = input;
  const chars = [...chunk];
  chars.forEach((char, at) => {
    if (char === "\r" || char === "\n") {
      if (char === "\n" && chars[at - 1] === "\r") return; // one break, written as \r\n
      const moreFollows = chars.slice(at + 1).some((c) => c !== "\r" && c !== "\n");
      if (options.multiline && moreFollows) line += "\n";
      else {
        on.submit(line);
        line = "";
      }
    } else if (char === "\x7f" || char === "\b") line = withoutLastChar(line);
    else if (char === "\t") on.tab?.();
    else if (char >= " ") line += char;
  });
  return line;
}
