/**
 * `mmstruct top DIR`: the merged metrics of a metrics directory, and the fields of every
 * other struct file in it, on a full screen refreshed in place; one table when standard
 * output is not a terminal. Internal.
 *
 * @module
 */

import process from "node:process";
import { defaultMetricsDirectory } from "../metrics/default_directory.ts";
import { cell, clean, type Key, Screen, STYLE, styled, Ticker } from "./_screen.ts";
import { formatNumber, type TopRow, type TopSnapshot, TopSource } from "./_top_source.ts";

/** The orders `s` cycles through. */
const SORTS = ["name", "value", "rate"] as const;
type Sort = typeof SORTS[number];

function sortRows(rows: TopRow[], sort: Sort): TopRow[] {
  const byName = (a: TopRow, b: TopRow) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  if (sort === "name") return rows.sort(byName);
  const key = (row: TopRow) => {
    const n = sort === "value" ? row.value : row.rate;
    return n === undefined || Number.isNaN(n) ? -Infinity : n;
  };
  return rows.sort((a, b) => key(b) - key(a) || byName(a, b));
}

/** What the view shows besides the data: the order, the filter, the filter being typed. */
export interface TopState {
  sort: Sort;
  filter: string;
  /** The filter being typed after `/`, or undefined. */
  editing: string | undefined;
  /** The first row shown (0 the first row), scrolled by the keys; {@linkcode topLines} keeps it within range. */
  offset: number;
}

/** A state showing every row from the top, by name. */
export function topState(): TopState {
  return { sort: "name", filter: "", editing: undefined, offset: 0 };
}

/** The lines above the table: the title, the writers, a blank line, the column header. */
const HEADER_LINES = 4;

/** How many rows of the table a screen of `height` lines shows: all but the header and the line of key help. */
export function topPage(height: number): number {
  return Math.max(0, height - HEADER_LINES - 1);
}

/** `offset` within range for `total` rows shown `page` at a time: the last screen is a full one. */
export function clampOffset(offset: number, total: number, page: number): number {
  return Math.max(0, Math.min(offset, total - page));
}

/** The rows the state selects, in its order. */
function selected(snapshot: TopSnapshot, state: TopState): TopRow[] {
  const filter = state.filter.toLowerCase();
  return sortRows(snapshot.rows.filter((row) => row.name.toLowerCase().includes(filter)), state.sort);
}

/** What the keys that scroll need to know: how many rows the state selects, and how many a screen shows. */
export interface TopView {
  readonly total: number;
  readonly page: number;
}

/** The {@linkcode TopView} of `snapshot` on a screen of `height` lines. */
export function topView(snapshot: TopSnapshot, state: TopState, height: number): TopView {
  return { total: selected(snapshot, state).length, page: topPage(height) };
}

const COLUMNS = [
  ["TYPE", 9],
  ["VALUE", 16],
  ["RATE/S", 10],
  ["P50", 8],
  ["P90", 8],
  ["P99", 8],
] as const;

/**
 * The screen's lines for `snapshot`, `width` columns wide: a header, the table (names cut
 * to what the other columns leave) from row `state.offset` on, and a line saying which
 * rows are shown and the keys, `height` lines in all; or, without `height`, every row and
 * no help, unstyled (a snapshot to print). `state.offset` is first brought within range
 * of the rows there are now and the screen's height.
 */
export function topLines(
  where: string,
  snapshot: TopSnapshot,
  state: TopState,
  width: number,
  height?: number,
): string[] {
  const style = (text: string, sgr: string) => (height !== undefined ? styled(text, sgr) : text);
  const { live, dead } = snapshot.writers;
  const writers = `writers: ${style(`${live} live`, STYLE.green)}, ${
    dead > 0 ? style(`${dead} dead`, STYLE.boldRed) : "0 dead"
  }`;
  const extra = [
    snapshot.structFiles > 0 ? `${snapshot.structFiles} struct files` : "",
    snapshot.skipped > 0 ? style(`${snapshot.skipped} files skipped`, STYLE.yellow) : "",
  ].filter((part) => part !== "");
  const time = new Date().toISOString().slice(11, 19);
  const lines = [
    `${style("mmstruct top", STYLE.bold)} ${clean(where)}  ${time} UTC`,
    [writers, ...extra].join("  "),
  ];
  const rows = selected(snapshot, state);
  const fixed = COLUMNS.reduce((sum, [, w]) => sum + w + 1, 0);
  let nameWidth = Math.max(12, width - fixed);
  if (height === undefined) {
    nameWidth = 4;
    for (const row of rows) nameWidth = Math.max(nameWidth, row.name.length);
  }
  const head = [cell("NAME", nameWidth), ...COLUMNS.map(([t, w], i) => cell(t, w, i === 0 ? "left" : "right"))];
  lines.push("", style(cell(head.join(" "), width), STYLE.inverse));
  const room = height === undefined ? rows.length : topPage(height);
  const first = height === undefined ? 0 : clampOffset(state.offset, rows.length, room);
  if (height !== undefined) state.offset = first;
  const shownRows = rows.slice(first, first + room);
  for (const row of shownRows) {
    const [p50, p90, p99] = row.quantiles ?? [];
    const cells = [
      cell(row.name, nameWidth),
      cell(row.type, 9),
      cell(row.text, 16, row.value === undefined ? "left" : "right"),
      cell(formatNumber(row.rate), 10, "right"),
      cell(row.quantiles ? formatNumber(p50) : "", 8, "right"),
      cell(row.quantiles ? formatNumber(p90) : "", 8, "right"),
      cell(row.quantiles ? formatNumber(p99) : "", 8, "right"),
    ];
    const line = cells.join(" ");
    lines.push(row.alarm ? style(line, STYLE.red) : line);
  }
  if (height === undefined) return lines;
  while (lines.length < height - 1) lines.push("");
  const which = shownRows.length > 0
    ? `rows ${first + 1}-${first + shownRows.length} of ${rows.length}`
    : `0 of ${rows.length} rows`;
  const shown = `${which}${state.filter ? ` matching "${clean(state.filter)}"` : ""}`;
  lines.push(
    state.editing !== undefined
      ? `filter: /${clean(state.editing)}_   Enter apply, Esc cancel`
      : style(`sort: ${state.sort}  ${shown}  s sort  / filter  ↑↓ PgUp PgDn Home End scroll  q quit`, STYLE.dim),
  );
  return lines;
}

/** How far each key that scrolls moves, given a screen of `page` rows. */
function scrollBy(key: Key, page: number): number | undefined {
  const char = key.name === "char" ? key.char : undefined;
  if (key.name === "down" || char === "j") return 1;
  if (key.name === "up" || char === "k") return -1;
  if (key.name === "pagedown" || char === " ") return Math.max(1, page);
  if (key.name === "pageup" || char === "b") return -Math.max(1, page);
  if (key.name === "end" || char === "G") return Infinity;
  if (key.name === "home" || char === "g") return -Infinity;
  return undefined;
}

/**
 * Applies a key to the state, `view` being what the screen shows now (for the keys that
 * scroll: they keep the offset within its rows); returns whether to quit. A new filter or
 * order goes back to the first row.
 */
export function topKey(state: TopState, key: Key, view: TopView): boolean {
  if (state.editing !== undefined) {
    if (key.name === "enter") {
      if (state.filter !== state.editing) state.offset = 0;
      state.filter = state.editing;
      state.editing = undefined;
    } else if (key.name === "escape") state.editing = undefined;
    else if (key.name === "backspace") state.editing = state.editing.slice(0, -1);
    else if (key.name === "char") state.editing += key.char;
    else if (key.name === "interrupt") return true;
    return false;
  }
  if (key.name === "interrupt" || (key.name === "char" && key.char === "q")) return true;
  if (key.name === "char" && key.char === "s") {
    state.sort = SORTS[(SORTS.indexOf(state.sort) + 1) % SORTS.length];
    state.offset = 0;
  }
  if (key.name === "char" && key.char === "/") state.editing = state.filter;
  if (key.name === "escape" && state.filter !== "") {
    state.filter = "";
    state.offset = 0;
  }
  const by = scrollBy(key, view.page);
  if (by !== undefined) {
    // From where the screen is now (rows may have gone since the offset was set), then within range again.
    const from = clampOffset(state.offset, view.total, view.page);
    state.offset = clampOffset(from + by, view.total, view.page);
  }
  return false;
}

/**
 * Runs `mmstruct top`: until `q`, Ctrl-C or SIGTERM on a terminal; one snapshot (without
 * rates, which take two) when standard output is not one, written by `print` (the
 * command's output, which knows what to do when its reader has gone).
 */
export async function runTop(
  dir: string | undefined,
  interval: number,
  print: (text: string) => Promise<void>,
): Promise<void> {
  const source = new TopSource(dir);
  try {
    // Before the screen is taken: a directory that cannot be read is a one-line error.
    let snapshot = source.scrape();
    const where = dir ?? defaultMetricsDirectory();
    if (process.stdout.isTTY !== true) {
      const body = topLines(where, snapshot, topState(), 160)
        .map((line) => line.trimEnd());
      await print(body.join("\n") + "\n");
      return;
    }
    const state = topState();
    const ticker = new Ticker();
    let quit = false;
    using screen = new Screen({
      key(key) {
        quit ||= topKey(state, key, topView(snapshot, state, screen.rows));
        ticker.wake();
      },
      resize: () => ticker.wake(),
      quit() {
        quit = true;
        ticker.wake();
      },
    });
    let due = performance.now() + interval;
    while (!quit) {
      screen.draw(topLines(where, snapshot, state, screen.columns, screen.rows));
      await ticker.sleep(Math.max(0, due - performance.now()));
      if (quit) break;
      if (performance.now() >= due) {
        snapshot = source.scrape();
        due = performance.now() + interval;
      }
    }
  } finally {
    source.close();
  }
}
