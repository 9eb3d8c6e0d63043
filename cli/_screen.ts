/**
 * The full-screen terminal of `mmstruct top` and `mmstruct watch`: the alternate screen,
 * raw keys, redraws in place, the terminal's size. Plain ANSI (ECMA-48 and xterm's private
 * modes), which every terminal emulator in use speaks; `process.stdin.setRawMode` and
 * `process.stdout`'s `"resize"` event work alike on Deno, Node and Bun. Internal.
 *
 * @module
 */

import process from "node:process";

const CSI = "\x1b[";
/** xterm's alternate screen (with the cursor saved and restored): nothing drawn there reaches the scrollback. */
const ENTER = `${CSI}?1049h${CSI}?25l${CSI}H${CSI}2J`;
const LEAVE = `${CSI}0m${CSI}?25h${CSI}?1049l`;

/** Select Graphic Rendition codes the views use. */
export const STYLE = {
  bold: "1",
  dim: "2",
  inverse: "7",
  red: "31",
  green: "32",
  yellow: "33",
  boldRed: "1;31",
} as const;

/** `text` in a style; {@linkcode fit} counts only the text. */
export function styled(text: string, style: string): string {
  return `${CSI}${style}m${text}${CSI}0m`;
}

/**
 * `text` with every control character (C0, DEL, C1) replaced by `?`: a name or value read
 * from a file must not move the cursor or change the terminal's state.
 */
export function clean(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\x00-\x1f\x7f-\x9f]/g, "?");
}

// deno-lint-ignore no-control-regex
const SGR = /\x1b\[[0-9;]*m/y;

/** The visible length of a line made of {@linkcode clean} text and {@linkcode styled} pieces. */
export function visibleLength(line: string): number {
  return stripStyles(line).length;
}

/** The line without its styles. */
export function stripStyles(line: string): string {
  // deno-lint-ignore no-control-regex
  return line.replace(/\x1b\[[0-9;]*m/g, "");
}

/** `line` cut to `width` visible characters (its styles kept and closed), ending in `…` when cut. */
export function fit(line: string, width: number): string {
  if (width <= 0) return "";
  if (visibleLength(line) <= width) return line;
  let out = "";
  let shown = 0;
  for (let i = 0; i < line.length;) {
    SGR.lastIndex = i;
    const style = SGR.exec(line);
    if (style !== null) {
      out += style[0];
      i += style[0].length;
      continue;
    }
    if (shown === width - 1) break;
    out += line[i++];
    shown++;
  }
  return `${out}…${CSI}0m`;
}

/** `text` padded or cut (with `…`) to exactly `width` visible characters. */
export function cell(text: string, width: number, align: "left" | "right" = "left"): string {
  const length = visibleLength(text);
  if (length > width) return fit(text, width);
  const pad = " ".repeat(width - length);
  return align === "left" ? text + pad : pad + text;
}

/** A key the views act on. */
export type Key =
  | { readonly name: "char"; readonly char: string }
  | {
    readonly name:
      | "enter"
      | "escape"
      | "backspace"
      | "interrupt"
      | "up"
      | "down"
      | "pageup"
      | "pagedown"
      | "home"
      | "end";
  };

/** The keys xterm and tmux send as CSI/SS3 sequences, by their final byte (`\x1b[A`, `\x1bOA`). */
const FINAL: Readonly<Record<string, Key>> = {
  A: { name: "up" },
  B: { name: "down" },
  H: { name: "home" },
  F: { name: "end" },
};

/** The `\x1b[N~` keys by N: VT220's Home/End (1, 4) and rxvt's (7, 8), PgUp and PgDn. */
const TILDE: Readonly<Record<string, Key>> = {
  1: { name: "home" },
  4: { name: "end" },
  5: { name: "pageup" },
  6: { name: "pagedown" },
  7: { name: "home" },
  8: { name: "end" },
};

/**
 * The keys in a chunk of raw input: arrows Up and Down, PgUp, PgDn, Home and End as xterm
 * and tmux send them (normal and application cursor modes); other escape sequences
 * (function keys, arrows Left and Right) are dropped, a lone Esc is one.
 */
export function parseKeys(input: string): Key[] {
  const keys: Key[] = [];
  for (let i = 0; i < input.length; i++) {
    const c = input[i];
    if (c === "\x1b") {
      // A lone Esc, or the start of a sequence: CSI/SS3, its parameters, its final byte.
      if (i + 1 >= input.length) keys.push({ name: "escape" });
      else if (input[i + 1] === "[" || input[i + 1] === "O") {
        const start = i + 2;
        i = start;
        while (i < input.length && !/[@-~]/.test(input[i])) i++;
        const params = input.slice(start, i);
        const key = input[i] === "~" ? TILDE[params] : /^(1(;\d+)?)?$/.test(params) ? FINAL[input[i]] : undefined;
        if (key !== undefined) keys.push(key);
      } else keys.push({ name: "escape" });
    } else if (c === "\r" || c === "\n") keys.push({ name: "enter" });
    else if (c === "\x7f" || c === "\b") keys.push({ name: "backspace" });
    else if (c === "\x03" || c === "\x04") keys.push({ name: "interrupt" });
    else if (c >= " ") keys.push({ name: "char", char: c });
  }
  return keys;
}

/** What a screen reports to its view. */
export interface ScreenEvents {
  /** A key was pressed. */
  key(key: Key): void;
  /** The terminal's size changed: draw again. */
  resize(): void;
  /** SIGINT, SIGTERM or SIGHUP: the view should end. */
  quit(): void;
}

/**
 * The terminal, taken over: the alternate screen, raw keys, signal handlers. `close()`
 * gives it back as it was (also at process exit, should the view not get to it), and
 * calling it again does nothing.
 */
export class Screen implements Disposable {
  #closed = false;
  /** The terminal went away: nothing can be written to it. */
  #broken = false;
  #last = "";
  readonly #events: ScreenEvents;
  readonly #raw: boolean;
  readonly #onData = (chunk: string | Uint8Array) => {
    for (const key of parseKeys(typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk))) {
      this.#events.key(key);
    }
  };
  readonly #onResize = () => {
    this.#last = "";
    this.#events.resize();
  };
  readonly #onSignal = () => this.#events.quit();
  /** The terminal went away (EIO after a hangup): nothing more can be shown. */
  readonly #onError = () => {
    this.#broken = true;
    this.#events.quit();
  };
  readonly #onExit = () => this.close();

  /** Takes over the terminal; standard output must be one. */
  constructor(events: ScreenEvents) {
    this.#events = events;
    process.stdout.write(ENTER);
    process.stdout.on("error", this.#onError);
    process.stdout.on("resize", this.#onResize);
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, this.#onSignal);
    process.on("exit", this.#onExit);
    // Keys only from a terminal: `mmstruct top DIR < /dev/null` still runs, and quits on Ctrl-C.
    this.#raw = process.stdin.isTTY === true;
    if (this.#raw) {
      process.stdin.setRawMode(true);
      process.stdin.on("data", this.#onData);
      process.stdin.resume();
    }
  }

  /** The terminal's width in columns. */
  get columns(): number {
    return process.stdout.columns || 80;
  }

  /** The terminal's height in rows. */
  get rows(): number {
    return process.stdout.rows || 24;
  }

  /**
   * Draws `lines` over the screen from its top-left corner: each line cut to the width and
   * cleared to its end, at most as many lines as the screen has (the last not ended by a
   * newline, which would scroll), the rest of the screen cleared. Unchanged frames are not
   * written again.
   */
  draw(lines: readonly string[]): void {
    if (this.#closed || this.#broken) return;
    const shown = lines.slice(0, this.rows).map((line) => fit(line, this.columns) + `${CSI}0m${CSI}K`);
    const frame = `${CSI}H${shown.join("\r\n")}${CSI}J`;
    if (frame === this.#last) return;
    this.#last = frame;
    process.stdout.write(frame);
  }

  /** Gives the terminal back: the main screen, the cursor, cooked input. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    process.stdout.off("error", this.#onError);
    process.stdout.off("resize", this.#onResize);
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.off(signal, this.#onSignal);
    process.off("exit", this.#onExit);
    if (this.#raw) {
      process.stdin.off("data", this.#onData);
      process.stdin.setRawMode(false);
      process.stdin.pause();
    }
    if (!this.#broken) process.stdout.write(LEAVE);
  }

  /** {@linkcode Screen.prototype.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/** Resolves after `ms`, or at once when `wake()` is called (a key, a resize). */
export class Ticker {
  #wake: (() => void) | undefined;

  /** Waits up to `ms` milliseconds. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
    });
  }

  /** Ends the current sleep. */
  wake(): void {
    this.#wake?.();
  }
}
