/**
 * A private tmux server for the terminal tests: a pane running a command, keys sent to it,
 * its screen captured. Debian's `tmux`; `skip` says why not when it cannot be found.
 *
 * @module
 */

import { type ChildProcess, spawnSync } from "node:child_process";
import process from "node:process";
import { lines } from "./_helpers.ts";

/** Why the tmux tests skip (`false` when tmux is there). */
export const skipTmux: string | false = spawnSync("tmux", ["-V"], { stdio: "ignore" }).status === 0
  ? false
  : "tmux is not installed (Debian package tmux: apt-get install -y tmux)";

/** `arg` quoted for `sh`. */
export function shellQuote(arg: string): string {
  return `'${arg.replaceAll("'", "'\\''")}'`;
}

/** How long a test waits for the screen to show something: generous, for a loaded machine. */
const PATIENCE = 90_000;

/** One tmux server (on its own socket) with one pane; `kill()` ends it. */
export class Tmux implements Disposable {
  readonly #socket = `mmstruct-test-${process.pid}-${Math.random().toString(36).slice(2)}`;

  /**
   * Starts the server with a `width` × `height` pane running `command` (a shell command
   * line), then a line saying how it exited, then a shell prompt that stays.
   */
  constructor(command: string, width = 120, height = 30) {
    const script = `${command}; echo "exited with $?"; exec sh -c 'PS1="$ " exec sh -i'`;
    this.tmux(["new-session", "-d", "-x", String(width), "-y", String(height), "sh", "-c", script]);
  }

  /** Runs a tmux command on this server; its standard output. */
  tmux(args: string[]): string {
    const result = spawnSync("tmux", ["-L", this.#socket, "-f", "/dev/null", ...args], {
      encoding: "utf8",
      timeout: 30_000,
    });
    if (result.error || result.status !== 0) {
      throw new Error(`tmux ${args.join(" ")} failed: ${result.error?.message ?? result.stderr}`);
    }
    return result.stdout;
  }

  /** The pane's visible screen, one string per line, trailing blanks removed. */
  screen(): string[] {
    return this.tmux(["capture-pane", "-p"]).replace(/\n$/, "").split("\n").map((line) => line.trimEnd());
  }

  /** A format of the pane (`#{history_size}`, `#{alternate_on}`). */
  display(format: string): string {
    return this.tmux(["display-message", "-p", format]).trim();
  }

  /** Sends keys (tmux key names: `Enter`, `Escape`, `C-c`, or text with `-l`). */
  keys(...keys: string[]): void {
    this.tmux(["send-keys", ...keys]);
  }

  /** Sends text literally. */
  type(text: string): void {
    this.tmux(["send-keys", "-l", text]);
  }

  /**
   * Waits until `test` holds for the screen (looked at every 50 ms), up to a generous
   * timeout; returns that screen, or throws with the last one seen.
   */
  async waitFor(what: string, test: (screen: string[]) => boolean): Promise<string[]> {
    const until = performance.now() + PATIENCE;
    let screen: string[] = [];
    while (performance.now() < until) {
      screen = this.screen();
      if (test(screen)) return screen;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`timed out waiting for ${what}; the screen was:\n${screen.join("\n")}`);
  }

  /** Ends the server and its pane's processes. */
  kill(): void {
    spawnSync("tmux", ["-L", this.#socket, "kill-server"], { stdio: "ignore", timeout: 30_000 });
  }

  /** {@linkcode Tmux.prototype.kill}. */
  [Symbol.dispose](): void {
    this.kill();
  }
}

/** A child driven by lines (`fixtures/top_writer.ts`): each `send` waits for its `ok`. */
export class Driven {
  readonly #child: ChildProcess;
  readonly #lines: { next(): Promise<string> };

  constructor(child: ChildProcess) {
    this.#child = child;
    this.#lines = lines(child);
  }

  /** The child's pid. */
  get pid(): number {
    return this.#child.pid!;
  }

  /** Waits for the child's first line (`ready`). */
  async ready(): Promise<void> {
    const line = await this.#lines.next();
    if (line !== "ready") throw new Error(`expected "ready", got ${JSON.stringify(line)}`);
  }

  /** Sends a command line and waits for it to be done. */
  async send(line: string): Promise<void> {
    this.#child.stdin!.write(`${line}\n`);
    const answer = await this.#lines.next();
    if (answer !== "ok") throw new Error(`expected "ok" after ${JSON.stringify(line)}, got ${JSON.stringify(answer)}`);
  }

  /** SIGKILLs the child and waits for it to be gone (reaped: no longer a zombie). */
  async kill(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.#child.once("exit", resolve));
    this.#child.kill("SIGKILL");
    await exited;
  }
}
