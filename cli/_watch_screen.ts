/**
 * `mmstruct watch FILE` on a terminal: the file's fields on a full screen refreshed in
 * place, with the age of the last change, and a mark when the file's writer has gone or
 * the file was replaced, removed or truncated, so that values that will not change again
 * are never shown as live. Internal.
 *
 * @module
 */

import { FormatError } from "../struct_file/format_error.ts";
import { StaleWriterError } from "../struct_file/stale_writer_error.ts";
import { StructFile } from "../struct_file/struct_file.ts";
import { summary } from "../struct_file/_text.ts";
import { cell, clean, Screen, STYLE, styled, Ticker } from "./_screen.ts";

/** How the watched file stands, as the screen shows it. */
export interface WatchState {
  readonly path: string;
  /** The last rows read: field, type, value. */
  rows: [string, string, string][];
  version: number | undefined;
  /** When the data last changed (`performance.now()`), or undefined before a change was seen. */
  changedAt: number | undefined;
  readonly startedAt: number;
  /** Times another file replaced the watched one at the path. */
  reopens: number;
  /** The writer recorded in the file. */
  writer: { pid: number; alive: boolean } | undefined;
  /** Why the rows are no longer the file's (truncated, removed, unreadable), or undefined. */
  lost: string | undefined;
  /** Snapshots read so far. */
  snapshots: number;
}

/** Seconds, minutes or hours, whole: `3 s`, `4 min`, `2 h`. */
export function age(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.floor(s / 60)} min`;
  return `${Math.floor(s / 3600)} h`;
}

/** The screen's lines for `state` at `now`. */
export function watchLines(state: WatchState, now: number, width: number, height: number): string[] {
  const changed = state.changedAt === undefined
    ? `no change in ${age(now - state.startedAt)}`
    : `changed ${age(now - state.changedAt)} ago`;
  const version = state.version === undefined ? "" : `  version ${state.version}`;
  const lines = [`${styled("mmstruct watch", STYLE.bold)} ${clean(state.path)}${version}  ${changed}`];
  const stale = state.lost !== undefined || state.writer?.alive === false;
  if (state.lost !== undefined) {
    lines.push(styled(`${clean(state.lost)}: the values below are the last read, not live`, STYLE.boldRed));
  } else if (state.writer !== undefined && !state.writer.alive) {
    lines.push(
      styled(
        `writer process ${state.writer.pid} has exited: the values below are its last and will not change`,
        STYLE.boldRed,
      ),
    );
  } else if (state.writer !== undefined) {
    lines.push(styled(`writer process ${state.writer.pid} running`, STYLE.green));
  }
  if (state.reopens > 0) {
    lines.push(
      styled(
        `the file was replaced at its path (a restarted writer): following the new one (${
          state.reopens === 1 ? "once" : `${state.reopens} times`
        })`,
        STYLE.yellow,
      ),
    );
  }
  const fieldWidth = Math.max(5, ...state.rows.map(([f]) => f.length));
  const typeWidth = Math.max(4, ...state.rows.map(([, t]) => t.length));
  lines.push("", styled(cell(`${cell("FIELD", fieldWidth)}  ${cell("TYPE", typeWidth)}  VALUE`, width), STYLE.inverse));
  const room = Math.max(0, height - lines.length - 1);
  for (const [field, type, value] of state.rows.slice(0, room)) {
    const line = `${cell(clean(field), fieldWidth)}  ${cell(type, typeWidth)}  ${clean(value)}`;
    lines.push(stale ? styled(line, STYLE.dim) : line);
  }
  while (lines.length < height - 1) lines.push("");
  const more = state.rows.length > room ? `${state.rows.length - room} more rows below  ` : "";
  lines.push(styled(`${more}q quit`, STYLE.dim));
  return lines;
}

/** Reads the file into `state` once: reopens it when replaced, marks it when lost. Returns the file to keep. */
function poll(state: WatchState, file: StructFile | undefined, now: number): StructFile | undefined {
  try {
    if (file !== undefined && file.check() === "replaced") {
      file.close();
      file = undefined;
      state.reopens++;
    }
    if (file === undefined) {
      file = StructFile.open(state.path);
      state.version = undefined;
      state.lost = undefined;
    }
    if (file.version !== state.version) {
      const [rows, version] = summary(file);
      // Replaced or cut short while it was read: look again at the next poll.
      if (file.check() === "current") {
        if (state.version !== undefined || state.reopens > 0) state.changedAt = now;
        state.rows = rows;
        state.version = version;
        state.snapshots++;
      }
    }
    state.writer = file.writer();
    return file;
  } catch (error) {
    file?.close();
    if (error instanceof StaleWriterError) {
      state.lost = `writer process ${error.pid} died inside an update`;
    } else if (error instanceof FormatError && error.reason === "truncated") {
      state.lost = "the file was truncated";
    } else if ((error as { code?: string }).code === "ENOENT") {
      state.lost = "the file was removed";
    } else {
      state.lost = (error as Error).message;
    }
    return undefined;
  }
}

/**
 * Runs `mmstruct watch FILE` on a terminal until `q`, Ctrl-C or SIGTERM, or `count`
 * snapshots. The file must open at start (its errors are the command's); later problems
 * are shown, and the file is looked for again at each poll.
 */
export async function runWatchScreen(path: string, interval: number, count: number): Promise<void> {
  const now = performance.now();
  const state: WatchState = {
    path,
    rows: [],
    version: undefined,
    changedAt: undefined,
    startedAt: now,
    reopens: 0,
    writer: undefined,
    lost: undefined,
    snapshots: 0,
  };
  let file: StructFile | undefined = StructFile.open(path);
  try {
    const ticker = new Ticker();
    let quit = false;
    using screen = new Screen({
      key(key) {
        if (key.name === "interrupt" || (key.name === "char" && key.char === "q")) quit = true;
        ticker.wake();
      },
      resize: () => ticker.wake(),
      quit() {
        quit = true;
        ticker.wake();
      },
    });
    while (!quit) {
      file = poll(state, file, performance.now());
      screen.draw(watchLines(state, performance.now(), screen.columns, screen.rows));
      if (state.snapshots >= count) break;
      await ticker.sleep(interval);
    }
  } finally {
    file?.close();
  }
}
