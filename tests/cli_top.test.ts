import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { collect, histogramQuantile, Metrics, struct, StructFile, u32, u64 } from "../mod.ts";
import { topKey, topLines, topState, topView } from "../cli/_top.ts";
import { formatNumber, type TopRow, type TopSnapshot, TopSource } from "../cli/_top_source.ts";
import { fit, type Key, parseKeys, stripStyles, visibleLength } from "../cli/_screen.ts";
import { command, run, runtime, start, tempDir } from "./_helpers.ts";
import { Driven, shellQuote, skipTmux, Tmux } from "./_tmux.ts";

/** The shell command line that runs the CLI on this test's runtime. */
function cli(args: string[]): string {
  const [file, argv] = command(runtime, "../cli", args);
  return [file, ...argv].map(shellQuote).join(" ");
}

/** A writer child on this runtime (`fixtures/top_writer.ts`), ready. */
async function writer(...args: string[]): Promise<Driven> {
  const child = new Driven(start(runtime, "fixtures/top_writer", args));
  await child.ready();
  return child;
}

/** The screen line of the row named `name` (its first cell), or undefined. */
function row(screen: string[], name: string): string[] | undefined {
  const line = screen.find((l) => l.split(/\s+/)[0] === name);
  return line?.split(/\s+/);
}

/** The names of the table's rows, in order: the lines between the column header and the key help. */
function rowNames(screen: string[]): string[] {
  const head = screen.findIndex((l) => l.startsWith("NAME "));
  return screen.slice(head + 1, -1).filter((l) => l !== "" && !l.startsWith("sort:")).map((l) => l.split(/\s+/)[0]);
}

/** The layout `fixtures/top_writer.ts struct` writes. */
const Stats = struct({ requests: u64, errors: u32 });

const JOBS_W1 = 'jobs_total{writer="w1"}';
const JOBS_W2 = 'jobs_total{writer="w2"}';

test("mmstruct top shows live values, quantiles, keys, a killed writer and resizes in place, and restores the terminal", async (t) => {
  if (skipTmux) return t.skip(skipTmux);
  using tmp = tempDir();
  const w1 = await writer("metrics", tmp.dir, "w1");
  const w2 = await writer("metrics", tmp.dir, "w2");
  try {
    await w1.send("inc 5");
    await w2.send("inc 7");
    for (const x of [0.05, 0.3, 0.3, 0.7, 2]) await w1.send(`observe ${x}`);
    using tmux = new Tmux(cli(["top", tmp.dir, "--interval", "100"]));
    let screen = await tmux.waitFor(
      "both writers' jobs",
      (s) => row(s, JOBS_W1)?.[2] === "5" && row(s, JOBS_W2)?.[2] === "7",
    );
    assert.equal(tmux.display("#{alternate_on}"), "1");
    const history = tmux.display("#{history_size}");
    assert.match(screen[1], /writers: 2 live, 0 dead/);
    // The quantiles the screen shows are the buckets' estimates.
    const [seconds] = collect(tmp.dir, { meta: false }).families.filter((f) => f.name === "job_seconds");
    assert.ok(seconds.type === "histogram");
    const buckets = seconds.series[0].buckets;
    assert.deepEqual(row(screen, "job_seconds"), [
      "job_seconds",
      "histogram",
      "5",
      row(screen, "job_seconds")![3], // the rate: whatever changed between two refreshes
      ...[0.5, 0.9, 0.99].map((q) => formatNumber(histogramQuantile(q, buckets))),
    ]);
    assert.equal(visibleLength(screen.find((l) => l.startsWith("NAME "))!), 120);

    // Values change in place; the screen is redrawn over itself, never scrolled.
    await w1.send("inc 10");
    await w2.send("set 100");
    screen = await tmux.waitFor(
      "the new values",
      (s) => row(s, JOBS_W1)?.[2] === "15" && row(s, "queue_depth")?.[2] === "100",
    );
    assert.deepEqual(rowNames(screen), ["job_seconds", JOBS_W1, JOBS_W2, "queue_depth"]);

    // s: by value, largest first.
    tmux.keys("s");
    screen = await tmux.waitFor("the order by value", (s) => s.at(-1)!.startsWith("sort: value"));
    assert.deepEqual(rowNames(screen), ["queue_depth", JOBS_W1, JOBS_W2, "job_seconds"]);

    // /: a filter, typed, applied with Enter, cleared with Esc.
    tmux.keys("/");
    tmux.type("w2");
    await tmux.waitFor("the filter being typed", (s) => s.at(-1)!.startsWith("filter: /w2"));
    tmux.keys("Enter");
    screen = await tmux.waitFor("the filtered rows", (s) => /matching "w2"/.test(s.at(-1)!));
    assert.deepEqual(rowNames(screen), [JOBS_W2]);
    tmux.keys("Escape");
    await tmux.waitFor("every row again", (s) => rowNames(s).length === 4);

    // A writer killed: counted dead, its counter kept.
    await w2.kill();
    screen = await tmux.waitFor("the dead writer", (s) => /writers: 1 live, 1 dead/.test(s[1]));
    assert.equal(row(screen, JOBS_W2)?.[2], "7");

    // A narrower terminal: every line fits it, the last column still shown.
    tmux.tmux(["resize-window", "-x", "80", "-y", "20"]);
    screen = await tmux.waitFor("the new width", (s) => s.find((l) => l.startsWith("NAME "))?.length === 80);
    assert.ok(screen.every((l) => l.length <= 80), screen.join("\n"));
    assert.match(screen.find((l) => l.startsWith("NAME "))!, /P99$/);
    assert.equal(screen.length, 20);
    assert.match(screen.at(-1)!, /^sort: value/);

    // Back to the full width: the names are whole again.
    tmux.tmux(["resize-window", "-x", "120", "-y", "30"]);
    await tmux.waitFor("the full width", (s) => row(s, JOBS_W1)?.[2] === "15");

    // Many refreshes later (values changed again), nothing went into the scrollback.
    await w1.send("inc 1");
    await tmux.waitFor("the last value", (s) => row(s, JOBS_W1)?.[2] === "16");
    assert.equal(tmux.display("#{history_size}"), history);

    tmux.keys("q");
    screen = await tmux.waitFor("the exit", (s) => s.some((l) => l === "exited with 0"));
    assert.equal(tmux.display("#{alternate_on}"), "0");
    assert.ok(!screen.some((l) => l.startsWith("NAME ")), screen.join("\n"));
  } finally {
    await w1.kill();
    await w2.kill();
  }
});

for (
  const [how, stop] of [
    ["Ctrl-C", (tmux: Tmux) => tmux.keys("C-c")],
    ["SIGTERM", (tmux: Tmux, pidFile: string) => tmux.tmux(["run-shell", `kill -TERM $(cat ${shellQuote(pidFile)})`])],
  ] as const
) {
  test(`mmstruct top restores the terminal on ${how}`, async (t) => {
    if (skipTmux) return t.skip(skipTmux);
    using tmp = tempDir();
    using metrics = Metrics.create(tmp.dir);
    metrics.gauge({ name: "temperature", help: "Degrees" }).set(21);
    const pidFile = tmp.path("top.pid");
    // The pid of the program itself: the inner shell execs it.
    const inner = `echo $$ > ${shellQuote(pidFile)}; exec ${cli(["top", tmp.dir])}`;
    using tmux = new Tmux(`sh -c ${shellQuote(inner)}`);
    await tmux.waitFor("the gauge", (s) => row(s, "temperature")?.[2] === "21");
    assert.equal(tmux.display("#{alternate_on}"), "1");
    stop(tmux, pidFile);
    const screen = await tmux.waitFor("the exit", (s) => s.some((l) => l.startsWith("exited with ")));
    assert.ok(screen.includes("exited with 0"), screen.join("\n"));
    assert.equal(tmux.display("#{alternate_on}"), "0");
    assert.ok(!screen.some((l) => l.startsWith("NAME ")), screen.join("\n"));
    assert.equal(tmux.display("#{history_size}"), "0");
  });
}

test("mmstruct top scrolls with PgDn, End, Home and the arrows, and its footer says which rows it shows", async (t) => {
  if (skipTmux) return t.skip(skipTmux);
  using tmp = tempDir();
  using metrics = Metrics.create(tmp.dir);
  const counter = metrics.counter({ name: "c_total", help: "C", labelNames: ["i"], maxSeries: 200 });
  const names: string[] = [];
  for (let i = 0; i < 120; i++) {
    const label = String(i).padStart(3, "0");
    counter.labels({ i: label }).inc(i);
    names.push(`c_total{i="${label}"}`);
  }
  // 20 lines: 4 of header and 1 of help leave 15 rows.
  using tmux = new Tmux(cli(["top", tmp.dir, "--interval", "200"]), 100, 20);
  const footer = (s: string[]) => s.at(-1) ?? "";
  let screen = await tmux.waitFor("the first rows", (s) => / rows 1-15 of 120 /.test(footer(s)));
  assert.deepEqual(rowNames(screen), names.slice(0, 15));
  tmux.keys("NPage");
  screen = await tmux.waitFor("the next screen", (s) => / rows 16-30 of 120 /.test(footer(s)));
  assert.deepEqual(rowNames(screen), names.slice(15, 30));
  tmux.keys("Down");
  screen = await tmux.waitFor("a row further", (s) => / rows 17-31 of 120 /.test(footer(s)));
  assert.deepEqual(rowNames(screen), names.slice(16, 31));
  tmux.keys("End");
  screen = await tmux.waitFor("the last rows", (s) => / rows 106-120 of 120 /.test(footer(s)));
  assert.deepEqual(rowNames(screen), names.slice(105));
  // Past the end stays at the end.
  tmux.keys("NPage");
  tmux.keys("Up");
  screen = await tmux.waitFor("a row back", (s) => / rows 105-119 of 120 /.test(footer(s)));
  assert.deepEqual(rowNames(screen), names.slice(104, 119));
  tmux.keys("Home");
  screen = await tmux.waitFor("the first rows again", (s) => / rows 1-15 of 120 /.test(footer(s)));
  assert.deepEqual(rowNames(screen), names.slice(0, 15));
  // A shorter pane keeps the first row shown; a taller one keeps the last screen full.
  tmux.type("G");
  await tmux.waitFor("the last rows", (s) => / rows 106-120 of 120 /.test(footer(s)));
  tmux.tmux(["resize-window", "-x", "100", "-y", "12"]);
  screen = await tmux.waitFor("the shorter screen", (s) => / rows 106-112 of 120 /.test(footer(s)));
  assert.deepEqual(rowNames(screen), names.slice(105, 112));
  tmux.tmux(["resize-window", "-x", "100", "-y", "30"]);
  screen = await tmux.waitFor("the taller screen", (s) => / rows 96-120 of 120 /.test(footer(s)));
  assert.deepEqual(rowNames(screen), names.slice(95));
  tmux.keys("q");
  await tmux.waitFor("the exit", (s) => s.some((l) => l === "exited with 0"));
});

test("mmstruct top prints one snapshot, without terminal codes, when its output is not a terminal", async () => {
  using tmp = tempDir();
  // A struct file whose writer was killed: its row says the writer is gone.
  const killed = await writer("struct", tmp.path("old.mms"));
  await killed.kill();
  using metrics = Metrics.create(tmp.dir);
  metrics.counter({ name: "hits_total", help: "Hits", labelNames: ["path"] }).labels({ path: "/a" }).inc(3);
  using file = StructFile.create(tmp.path("stats.mms"), Stats);
  file.update((v) => v.errors = 4);
  writeFileSync(tmp.path("notes.txt"), "not a metrics file");
  const result = run(runtime, "../cli", ["top", tmp.dir]);
  assert.equal(result.status, 0, result.stderr);
  assert.ok(!result.stdout.includes("\x1b"), "no escape sequences");
  const lines = result.stdout.trimEnd().split("\n");
  assert.match(lines[1], /^writers: 1 live, 0 dead {2}2 struct files {2}1 files skipped$/);
  assert.deepEqual(lines.slice(3).map((l) => l.split(/\s+/).slice(0, 3)), [
    ["NAME", "TYPE", "VALUE"],
    ['hits_total{path="/a"}', "counter", "3"],
    ["old.mms", "file", "pid"],
    ["old.mms:errors", "u32", "0"],
    ["old.mms:requests", "u64", "0"],
    ["stats.mms", "file", "pid"],
    ["stats.mms:errors", "u32", "4"],
    ["stats.mms:requests", "u64", "0"],
  ]);
  assert.match(lines[5], new RegExp(`pid ${killed.pid} gone`));
  assert.match(lines[8], new RegExp(`pid ${process.pid} live`));
});

test("mmstruct top without a directory names the default one it reads, and shows its metrics", () => {
  using tmp = tempDir();
  using metrics = Metrics.create(tmp.path("default"));
  metrics.counter({ name: "jobs_total", help: "Jobs" }).inc(2);
  const result = run(runtime, "../cli", ["top"], {
    shellPrefix: `export MMSTRUCT_METRICS_DIR=${shellQuote(tmp.path("default"))}`,
  });
  assert.equal(result.status, 0, result.stderr);
  const lines = result.stdout.trimEnd().split("\n");
  assert.match(lines[0], new RegExp(`^mmstruct top ${tmp.path("default").replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} `));
  assert.deepEqual(lines.slice(4).map((l) => l.split(/\s+/).slice(0, 3)), [["jobs_total", "counter", "2"]]);
});

test("mmstruct top exits quietly when the reader of its snapshot has gone (| head)", () => {
  using tmp = tempDir();
  using metrics = Metrics.create(tmp.dir);
  // More than a pipe holds (64 KiB): the write after head exits fails with EPIPE.
  const counter = metrics.counter({ name: "c_total", help: "C", labelNames: ["i"], maxSeries: 5000 });
  for (let i = 0; i < 3000; i++) counter.labels({ i: String(i).padStart(40, "0") }).inc();
  const result = spawnSync("/bin/sh", ["-c", `{ ${cli(["top", tmp.dir])}; echo "status $?" >&2; } | head -1`], {
    encoding: "utf8",
    timeout: 60_000,
  });
  assert.match(result.stdout, /^mmstruct top /);
  assert.equal(result.stderr, "status 0\n");
});

test("mmstruct top fails with a one-line error for a directory that cannot be read", () => {
  using tmp = tempDir();
  const result = run(runtime, "../cli", ["top", tmp.path("missing")]);
  assert.equal(result.status, 3);
  assert.match(result.stderr, /^mmstruct: Cannot read the metrics directory ".*missing": No such file or directory\n$/);
  assert.equal(run(runtime, "../cli", ["top", tmp.dir, "--interval", "0"]).status, 2);
  assert.equal(run(runtime, "../cli", ["top", tmp.dir, "--json"]).status, 2);
});

test("TopSource.scrape() gives a counter's rate per second since the previous scrape", () => {
  using tmp = tempDir();
  using metrics = Metrics.create(tmp.dir);
  const hits = metrics.counter({ name: "hits_total", help: "Hits" });
  const source = new TopSource(tmp.dir);
  try {
    const outerStart = performance.now();
    const first = source.scrape();
    const innerStart = performance.now();
    assert.equal(first.rows[0].rate, undefined);
    hits.inc(10);
    const innerEnd = performance.now();
    const [second] = source.scrape().rows;
    const outerEnd = performance.now();
    // The scrapes' own clock readings lie between these: the rate is within the bounds they give.
    assert.ok(second.rate! >= 10 / ((outerEnd - outerStart) / 1000), String(second.rate));
    assert.ok(second.rate! <= 10 / ((innerEnd - innerStart) / 1000), String(second.rate));
  } finally {
    source.close();
  }
});

test("fit() cuts a styled line to the width by its visible characters", () => {
  const line = `ab\x1b[31mcdef\x1b[0mgh`;
  assert.equal(fit(line, 8), line);
  assert.equal(visibleLength(fit(line, 5)), 5);
  assert.equal(fit(line, 5), "ab\x1b[31mcd…\x1b[0m");
  assert.equal(fit(line, 0), "");
});

test("parseKeys() tells keys from escape sequences", () => {
  assert.deepEqual(parseKeys("s/a\r\x1b\x7f\x03"), [
    { name: "char", char: "s" },
    { name: "char", char: "/" },
    { name: "char", char: "a" },
    { name: "enter" },
    { name: "escape" },
    { name: "backspace" },
    { name: "interrupt" },
  ]);
  // Function keys and arrows Left and Right are not an Esc followed by letters.
  assert.deepEqual(parseKeys("\x1b[D\x1bOP\x1b[15~\x1b[Cq"), [{ name: "char", char: "q" }]);
});

test("parseKeys() knows the keys that scroll, as xterm and tmux send them", () => {
  const names = (input: string) => parseKeys(input).map((key) => key.name);
  assert.deepEqual(names("\x1b[A\x1b[B\x1bOA\x1bOB"), ["up", "down", "up", "down"]);
  assert.deepEqual(names("\x1b[5~\x1b[6~"), ["pageup", "pagedown"]);
  assert.deepEqual(names("\x1b[H\x1b[1~\x1bOH\x1b[7~"), ["home", "home", "home", "home"]);
  assert.deepEqual(names("\x1b[F\x1b[4~\x1bOF\x1b[8~"), ["end", "end", "end", "end"]);
  // Between other keys, with a modifier (Ctrl-Up is \x1b[1;5A), and a lone Esc still one.
  assert.deepEqual(parseKeys("j\x1b[1;5A\x1b[6~k\x1b"), [
    { name: "char", char: "j" },
    { name: "up" },
    { name: "pagedown" },
    { name: "char", char: "k" },
    { name: "escape" },
  ]);
});

/** A snapshot of `count` gauges, `g000` to ..., valued by their number. */
function gauges(count: number): TopSnapshot {
  const rows: TopRow[] = Array.from({ length: count }, (_, i) => ({
    name: `g${String(i).padStart(3, "0")}`,
    type: "gauge",
    text: String(i),
    value: i,
    rated: false,
  }));
  return { rows, writers: { live: 1, dead: 0, archives: 0 }, skipped: 0, structFiles: 0 };
}

/** The names of the table's rows and the footer of a drawn screen. */
function drawn(lines: string[]): { names: string[]; footer: string } {
  const plain = lines.map(stripStyles);
  const head = plain.findIndex((l) => l.startsWith("NAME "));
  const names = plain.slice(head + 1, -1).filter((l) => l.trim() !== "").map((l) => l.split(/\s+/)[0]);
  return { names, footer: plain.at(-1)! };
}

const NAMES_50 = gauges(50).rows.map((row) => row.name);

test("topLines() shows the rows from the state's offset and says which in the footer", () => {
  const state = topState();
  // 20 lines: 4 of header, 1 of help, 15 rows.
  let screen = drawn(topLines("dir", gauges(50), state, 100, 20));
  assert.deepEqual(screen.names, NAMES_50.slice(0, 15));
  assert.match(screen.footer, /^sort: name {2}rows 1-15 of 50 /);
  state.offset = 20;
  screen = drawn(topLines("dir", gauges(50), state, 100, 20));
  assert.deepEqual(screen.names, NAMES_50.slice(20, 35));
  assert.match(screen.footer, / rows 21-35 of 50 /);
  // The help names the keys that scroll.
  assert.match(screen.footer, /PgUp PgDn Home End scroll/);
});

test("topLines() keeps the offset within range as rows go and the screen grows", () => {
  const state = topState();
  state.offset = 40;
  // Past the last full screen: the last 15 rows.
  let screen = drawn(topLines("dir", gauges(50), state, 100, 20));
  assert.deepEqual(screen.names, NAMES_50.slice(35));
  assert.equal(state.offset, 35);
  assert.match(screen.footer, / rows 36-50 of 50 /);
  // Rows gone: the last screen of those left.
  screen = drawn(topLines("dir", gauges(20), state, 100, 20));
  assert.deepEqual(screen.names, NAMES_50.slice(5, 20));
  assert.match(screen.footer, / rows 6-20 of 20 /);
  // A taller screen: every row fits, from the first.
  screen = drawn(topLines("dir", gauges(20), state, 100, 40));
  assert.deepEqual(screen.names, NAMES_50.slice(0, 20));
  assert.equal(state.offset, 0);
  assert.match(screen.footer, / rows 1-20 of 20 /);
  // No rows, or no room for one.
  assert.match(drawn(topLines("dir", gauges(0), state, 100, 20)).footer, / 0 of 0 rows /);
  assert.match(drawn(topLines("dir", gauges(5), state, 100, 5)).footer, / 0 of 5 rows /);
});

test("topKey() scrolls by a row, a screen and to either end, within range", () => {
  const snapshot = gauges(50);
  const state = topState();
  const press = (...keys: Key[]) => {
    for (const key of keys) assert.equal(topKey(state, key, topView(snapshot, state, 20)), false);
    return state.offset;
  };
  const char = (c: string): Key => ({ name: "char", char: c });
  assert.equal(press({ name: "up" }), 0);
  assert.equal(press({ name: "down" }, char("j"), char("j")), 3);
  assert.equal(press(char("k")), 2);
  assert.equal(press({ name: "pagedown" }), 17);
  assert.equal(press(char(" ")), 32);
  assert.equal(press({ name: "pagedown" }), 35);
  assert.equal(press({ name: "down" }), 35);
  assert.equal(press({ name: "pageup" }), 20);
  assert.equal(press(char("b"), char("b")), 0);
  assert.equal(press({ name: "end" }), 35);
  assert.equal(press({ name: "home" }), 0);
  assert.equal(press(char("G"), { name: "up" }), 34);
  assert.equal(press(char("g")), 0);
  // What the screen shows after a key is where the key moved to.
  press({ name: "pagedown" });
  assert.deepEqual(drawn(topLines("dir", snapshot, state, 100, 20)).names, NAMES_50.slice(15, 30));
});

test("topKey() goes back to the first row when the order or the filter changes", () => {
  const snapshot = gauges(50);
  const state = topState();
  const press = (key: Key) => topKey(state, key, topView(snapshot, state, 20));
  press({ name: "end" });
  press({ name: "char", char: "s" });
  assert.equal(state.sort, "value");
  assert.equal(state.offset, 0);
  press({ name: "end" });
  // A filter that every row matches: the rows are the same, but the view starts again.
  for (const key of parseKeys("/g0\r")) press(key);
  assert.equal(state.filter, "g0");
  assert.equal(state.offset, 0);
  press({ name: "end" });
  assert.notEqual(state.offset, 0);
  press({ name: "escape" });
  assert.equal(state.filter, "");
  assert.equal(state.offset, 0);
});

test("mmstruct watch on a terminal shows the age of changes, marks a killed writer, a replaced and a truncated file", async (t) => {
  if (skipTmux) return t.skip(skipTmux);
  using tmp = tempDir();
  const path = tmp.path("stats.mms");
  const child = await writer("struct", path);
  try {
    using tmux = new Tmux(cli(["watch", path, "--interval", "50"]));
    const field = (s: string[], name: string) => s.find((l) => l.startsWith(`${name} `))?.split(/\s+/)[2];
    let screen = await tmux.waitFor("the file", (s) => field(s, "requests") === "0");
    assert.match(screen[0], /no change in \d+ s$/);
    assert.equal(screen[1], `writer process ${child.pid} running`);
    const history = tmux.display("#{history_size}");

    await child.send("set requests 42");
    screen = await tmux.waitFor("the change", (s) => field(s, "requests") === "42");
    assert.match(screen[0], /version 2 {2}changed \d+ s ago$/);

    await child.kill();
    screen = await tmux.waitFor("the dead writer", (s) => /has exited/.test(s[1]));
    assert.equal(
      screen[1],
      `writer process ${child.pid} has exited: the values below are its last and will not change`,
    );
    assert.equal(field(screen, "requests"), "42");

    // A restarted writer (this process) publishes a new file at the path.
    using replacement = StructFile.create(path, Stats, { initial: { requests: 7n }, overwrite: true });
    screen = await tmux.waitFor("the new file", (s) => field(s, "requests") === "7");
    assert.equal(screen[1], `writer process ${process.pid} running`);
    assert.match(screen[2], /^the file was replaced at its path/);

    // Cut short under the reader: marked, not read (reading it would be zeros, or SIGBUS).
    replacement.close();
    truncateSync(path, 40);
    screen = await tmux.waitFor("the truncation", (s) => /truncated/.test(s[1]));
    assert.equal(screen[1], "the file was truncated: the values below are the last read, not live");
    assert.equal(field(screen, "requests"), "7");
    assert.equal(tmux.display("#{history_size}"), history);

    tmux.keys("q");
    screen = await tmux.waitFor("the exit", (s) => s.some((l) => l === "exited with 0"));
    assert.equal(tmux.display("#{alternate_on}"), "0");
    assert.ok(!screen.some((l) => l.startsWith("FIELD ")), screen.join("\n"));
  } finally {
    await child.kill();
  }
});

test("StructFile.writer() tells a running writer from a killed one", async () => {
  using tmp = tempDir();
  const path = join(tmp.dir, "stats.mms");
  const child = await writer("struct", path);
  using reader = StructFile.open(path);
  try {
    assert.deepEqual(reader.writer(), { pid: child.pid, alive: true });
    await child.kill();
    assert.deepEqual(reader.writer(), { pid: child.pid, alive: false });
  } finally {
    await child.kill();
  }
  reader.close();
  assert.throws(() => reader.writer(), TypeError);
});
