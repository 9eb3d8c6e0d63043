import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { describe, test } from "node:test";
import { collect, Metrics, nagiosCheck, NagiosRange } from "../mod.ts";
import type { NagiosCheckState } from "../mod.ts";
import { runCheck } from "../exporters/_check_command.ts";
import { run, runtime, tempDir } from "./_helpers.ts";

/** The check command on this test's runtime. */
function check(args: readonly string[]) {
  const result = run(runtime, "../cli", ["check", ...args]);
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The check command's function, run in this process: its output and its status. */
function checkHere(args: readonly string[]): { status: number; stdout: string } {
  const log = console.log;
  let stdout = "";
  console.log = (line: string) => stdout += `${line}\n`;
  try {
    return { status: runCheck(args), stdout };
  } finally {
    console.log = log;
  }
}

/**
 * The Nagios plugin development guidelines' table "Example ranges": each range and when it
 * generates an alert, as the table says it.
 */
const EXAMPLE_RANGES: readonly [string, (x: number) => boolean][] = [
  ["10", (x) => x < 0 || x > 10], // outside the range of {0 .. 10}
  ["10:", (x) => x < 10], // outside {10 .. ∞}
  ["~:10", (x) => x > 10], // outside the range of {-∞ .. 10}
  ["10:20", (x) => x < 10 || x > 20], // outside the range of {10 .. 20}
  ["@10:20", (x) => x >= 10 && x <= 20], // inside the range of {10 .. 20}
];

/** Values at, just inside and just outside every bound of the table, and far away. */
const VALUES = [-1e9, -1, -0.001, 0, 0.001, 5, 9.999, 10, 10.001, 15, 19.999, 20, 20.001, 1e9];

describe("NagiosRange", () => {
  test("NagiosRange.parse() alerts exactly as the guidelines' example ranges say, at and around the bounds", () => {
    for (const [text, alert] of EXAMPLE_RANGES) {
      const range = NagiosRange.parse(text);
      for (const value of VALUES) {
        assert.equal(range.alerts(value), alert(value), `range ${text}, value ${value}`);
      }
    }
  });

  test("NagiosRange.parse() reads signs, decimals, exponents, ~ and an empty start as the C plugins do", () => {
    const parts = (text: string) => {
      const { start, end, inside } = NagiosRange.parse(text);
      return { start, end, inside };
    };
    assert.deepEqual(parts("-5:5"), { start: -5, end: 5, inside: false });
    assert.deepEqual(parts("@~:-0.5"), { start: -Infinity, end: -0.5, inside: true });
    assert.deepEqual(parts(":1e3"), { start: 0, end: 1000, inside: false });
    assert.deepEqual(parts(" 7 "), { start: 0, end: 7, inside: false });
    assert.deepEqual(parts("~:"), { start: -Infinity, end: Infinity, inside: false });
    assert.deepEqual(parts("5:5"), { start: 5, end: 5, inside: false });
  });

  test("NagiosRange.parse() refuses what is not a range, naming it", () => {
    for (const bad of ["", " ", "@", "abc", "~", "1:2:3", "10:~", "0x10", "1..2", "Infinity", "1e999", "10 20"]) {
      assert.throws(() => NagiosRange.parse(bad), { name: "TypeError", message: /^Invalid range "/ }, bad);
    }
    assert.throws(() => NagiosRange.parse("20:10"), {
      name: "RangeError",
      message: 'Invalid range "20:10": the start 20 is greater than the end 10',
    });
    assert.throws(() => NagiosRange.parse(10 as unknown as string), TypeError);
  });

  test("NagiosRange.toString() writes the range back in the plugin syntax, plain decimal numbers", () => {
    for (const text of ["10", "10:", "~:10", "10:20", "@10:20", "@5", "0:", "~:", "-5:5", "0.5"]) {
      assert.equal(String(NagiosRange.parse(text)), text);
    }
    assert.equal(String(NagiosRange.parse("0:10")), "10");
    assert.equal(String(NagiosRange.parse("1e-7:2e21")), "0.0000001:2000000000000000000000");
  });
});

describe("nagiosCheck", () => {
  test("nagiosCheck() gives the statuses of the guidelines' command line examples", () => {
    using tmp = tempDir();
    using metrics = Metrics.create(tmp.dir);
    const gauge = metrics.gauge({ name: "stuff", help: "Stuff", aggregate: "last" });
    // The guidelines' table "Command line examples", with the meaning it gives each line.
    const examples: [string | undefined, string | undefined, (x: number) => 0 | 1 | 2][] = [
      ["10", "20", (x) => x > 20 || x < 0 ? 2 : x > 10 ? 1 : 0],
      ["~:10", "~:20", (x) => x > 20 ? 2 : x > 10 ? 1 : 0],
      ["10:", "20", (x) => x > 20 || x < 0 ? 2 : x < 10 ? 1 : 0],
      [undefined, "1:", (x) => x < 1 ? 2 : 0],
      ["~:0", "10", (x) => x > 10 || x < 0 ? 2 : x > 0 ? 1 : 0],
      [undefined, "5:6", (x) => x < 5 || x > 6 ? 2 : 0],
      [undefined, "@10:20", (x) => x >= 10 && x <= 20 ? 2 : 0],
    ];
    for (const [warning, critical, expected] of examples) {
      for (const value of [-1, 0, 0.5, 1, 5, 5.5, 6, 7, 10, 15, 20, 21]) {
        gauge.set(value);
        const { status } = nagiosCheck(collect(tmp.dir).families, { metric: "stuff", warning, critical });
        assert.equal(status, expected(value), `-w ${warning} -c ${critical}, stuff = ${value}`);
      }
    }
  });

  test("nagiosCheck() checks each matching series and reports the worst, or their sum", () => {
    using tmp = tempDir();
    using metrics = Metrics.create(tmp.dir);
    const jobs = metrics.counter({ name: "jobs_total", help: "Jobs", labelNames: ["queue", "result"] });
    jobs.inc({ queue: "a", result: "ok" }, 5);
    jobs.inc({ queue: "b", result: "ok" }, 15);
    jobs.inc({ queue: "c", result: "ok" }, 25);
    jobs.inc({ queue: "c", result: "failed" }, 100);
    const { families } = collect(tmp.dir);
    const each = nagiosCheck(families, { metric: "jobs", labels: { result: "ok" }, warning: "10", critical: "20" });
    assert.equal(each.status, 2);
    assert.equal(
      each.output,
      "MMSTRUCT CRITICAL - 3 series of jobs, 1 critical, 1 warning; " +
        'worst: jobs_total{queue="c",result="ok"} = 25 (critical range 20)|' +
        '\'jobs_total{queue="a",result="ok"}\'=5c;10;20;0 \'jobs_total{queue="b",result="ok"}\'=15c;10;20;0 ' +
        '\'jobs_total{queue="c",result="ok"}\'=25c;10;20;0',
    );
    const total = nagiosCheck(families, { metric: "jobs_total", labels: { result: "ok" }, critical: "50", sum: true });
    assert.equal(total.status, 0);
    assert.equal(
      total.output,
      `MMSTRUCT OK - sum(jobs_total{result="ok"}) = 45|'sum(jobs_total{result="ok"})'=45c;;50;0`,
    );
    const none = nagiosCheck(families, { metric: "jobs", labels: { result: "lost" } });
    assert.equal(none.status, 3);
    assert.match(none.output, /^MMSTRUCT UNKNOWN - No series of "jobs" has the labels \{result="lost"\}/);
  });

  test("nagiosCheck() quotes perfdata labels and gives counters, seconds and bytes their units", () => {
    using tmp = tempDir();
    using metrics = Metrics.create(tmp.dir);
    const odd = metrics.counter({ name: "odd_total", help: "Odd labels", labelNames: ["v"] });
    for (const v of ["plain", "a b", "it's", "x|y", "two\nlines"]) odd.inc({ v });
    metrics.gauge({ name: "uptime_seconds", help: "Up", unit: "seconds" }).set(1.5);
    metrics.gauge({ name: "heap_bytes", help: "Heap", unit: "bytes" }).set(2 ** 70);
    metrics.gauge({ name: "tiny", help: "Tiny" }).set(1e-7);
    const { families } = collect(tmp.dir);
    const perf = (metric: string, labels = {}) => nagiosCheck(families, { metric, labels }).output.split("|")[1];
    // A label with =, ' (or a space) is quoted, a quote inside doubled; | and line breaks are escaped.
    assert.equal(perf("odd", { v: "plain" }), `'odd_total{v="plain"}'=1c;;;0`);
    // A space too, since Icinga 2 splits perfdata at every space, in quotes or not.
    assert.equal(perf("odd", { v: "a b" }), `'odd_total{v="a\\x20b"}'=1c;;;0`);
    assert.equal(perf("odd", { v: "it's" }), `'odd_total{v="it''s"}'=1c;;;0`);
    assert.equal(perf("odd", { v: "x|y" }), `'odd_total{v="x\\x7cy"}'=1c;;;0`);
    assert.equal(perf("odd", { v: "two\nlines" }), `'odd_total{v="two\\nlines"}'=1c;;;0`);
    assert.equal(perf("uptime_seconds"), "uptime_seconds=1.5s");
    assert.equal(perf("heap_bytes"), "heap_bytes=1180591620717411300000B");
    assert.equal(perf("tiny"), "tiny=0.0000001");
    const text = nagiosCheck(families, { metric: "odd", labels: { v: "x|y" } }).output;
    assert.equal(text.split("|").length, 2, "one | only, before the perfdata");
    assert.match(
      nagiosCheck(families, { metric: "odd", labels: { v: "a b" } }).output,
      /^MMSTRUCT OK - odd_total\{v="a b"\} = 1\|/,
    );
  });

  test("nagiosCheck() is UNKNOWN for a NaN gauge, a missing metric, and a quantile or rate of the wrong type", () => {
    using tmp = tempDir();
    using metrics = Metrics.create(tmp.dir);
    metrics.gauge({ name: "temperature", help: "T" }).set(NaN);
    metrics.counter({ name: "n_total", help: "N" }).inc();
    const { families } = collect(tmp.dir);
    const nan = nagiosCheck(families, { metric: "temperature", critical: "10" });
    assert.deepEqual([nan.status, nan.output], [3, "MMSTRUCT UNKNOWN - temperature = NaN|temperature=U;;10"]);
    assert.equal(nagiosCheck(families, { metric: "missing" }).status, 3);
    // Several series: CRITICAL, then WARNING, then UNKNOWN, then OK, whatever their order.
    const rooms = metrics.gauge({ name: "room", help: "R", labelNames: ["name"], aggregate: "last" });
    for (const [name, value] of [["a", NaN], ["b", 25], ["c", 15], ["d", 5]] as const) rooms.set({ name }, value);
    const all = collect(tmp.dir).families;
    const worst = (names: string[]) => {
      const only = all.map((f) =>
        f.name === "room" && f.type === "gauge"
          ? { ...f, series: f.series.filter((s) => names.includes(s.labels.name)) }
          : f
      );
      return nagiosCheck(only, { metric: "room", warning: "10", critical: "20" }).status;
    };
    assert.equal(worst(["a", "b", "c", "d"]), 2);
    assert.equal(worst(["d", "c", "a"]), 1);
    assert.equal(worst(["d", "a"]), 3);
    assert.equal(worst(["d"]), 0);
    assert.match(nagiosCheck(families, { metric: "n", quantile: 0.5 }).output, /A quantile needs a histogram/);
    assert.match(nagiosCheck(families, { metric: "temperature", rate: true }).output, /A rate needs a counter/);
    assert.throws(() => nagiosCheck(families, { metric: "n", quantile: 2 }), RangeError);
    assert.throws(() => nagiosCheck(families, { metric: "n", warning: "x" }), TypeError);
    assert.throws(() => nagiosCheck(families, { metric: "" }), TypeError);
  });

  test("nagiosCheck() estimates a histogram quantile from its buckets as histogram_quantile does", () => {
    using tmp = tempDir();
    using metrics = Metrics.create(tmp.dir);
    const latency = metrics.histogram({ name: "latency_seconds", help: "L", unit: "seconds", buckets: [1, 2, 4] });
    for (const v of [0.5, 1.5, 1.5, 3]) latency.observe(v);
    const value = (quantile: number) =>
      Number(nagiosCheck(collect(tmp.dir).families, { metric: "latency_seconds", quantile }).output.split("=").at(-1)!
        .replace(/s$/, ""));
    // Cumulative counts 1, 3, 4, 4: the rank q·4 falls in a bucket, and is interpolated linearly within it.
    assert.equal(value(0.25), 1); // rank 1: the end of the first bucket (0 to 1)
    assert.equal(value(0.5), 1.5); // rank 2: half-way through the second bucket (1 to 2)
    assert.equal(value(1), 4); // rank 4: the end of the third bucket (2 to 4)
    latency.observe(100);
    assert.equal(value(0.99), 4); // in the +Inf bucket: the highest finite bound
    const output = nagiosCheck(collect(tmp.dir).families, { metric: "latency_seconds", quantile: 0.5, warning: "1" })
      .output;
    assert.equal(
      output,
      `MMSTRUCT WARNING - latency_seconds{quantile="0.5"} = 1.75 (warning range 1)|'latency_seconds{quantile="0.5"}'=1.75s;1`,
    );
  });

  test("nagiosCheck() with rate: per second since the previous state, resets and new series from 0", () => {
    using tmp = tempDir();
    using metrics = Metrics.create(tmp.dir);
    const hits = metrics.counter({ name: "hits_total", help: "Hits", labelNames: ["route"] });
    hits.inc({ route: "/a" }, 100);
    const rate = (previous: unknown, now: number, extra = {}) =>
      nagiosCheck(collect(tmp.dir).families, { metric: "hits", rate: true, previous, now, ...extra });
    const first = rate(undefined, 10_000);
    assert.deepEqual(
      [first.status, first.output],
      [0, "MMSTRUCT OK - first run: the rate of hits is not known yet"],
    );
    assert.ok(first.state !== undefined);
    hits.inc({ route: "/a" }, 50);
    hits.inc({ route: "/b" }, 20); // new since the first check: counted from 0
    const second = rate(JSON.stringify(first.state), 20_000, { critical: "4" });
    assert.equal(second.status, 2);
    assert.equal(
      second.output.split("|")[1],
      `'rate(hits_total{route="/a"})'=5;;4;0 'rate(hits_total{route="/b"})'=2;;4;0`,
    );
    // A total below the saved one: counting started again, so all of it is new.
    const reset: NagiosCheckState = {
      ...second.state!,
      series: { ...second.state!.series, [JSON.stringify([["route", "/a"]])]: [1e6] },
    };
    const third = rate(reset, 40_000, { sum: true });
    assert.equal(third.output, "MMSTRUCT OK - sum(rate(hits_total)) = 7.5 per second|sum(rate(hits_total))=7.5;;;0");
    // Not this check's state, corrupt, or no time passed: OK, and the rate is not known yet.
    for (
      const [previous, why] of [
        ["{not json", "the saved state is not from this check or is corrupt"],
        [{ ...first.state!, check: "other" }, "the saved state is not from this check or is corrupt"],
        [first.state!, "no time has passed since the previous check"],
      ] as const
    ) {
      const result = rate(previous, 10_000);
      assert.equal(result.status, 0);
      assert.match(result.output, new RegExp(`^MMSTRUCT OK - ${why}`));
    }
  });

  test("nagiosCheck() with rate and quantile: the quantile of the observations since the previous check", () => {
    using tmp = tempDir();
    using metrics = Metrics.create(tmp.dir);
    const latency = metrics.histogram({ name: "latency_seconds", help: "L", unit: "seconds", buckets: [1, 2, 4] });
    for (let i = 0; i < 100; i++) latency.observe(0.5);
    const options = { metric: "latency_seconds", quantile: 0.5, rate: true } as const;
    const first = nagiosCheck(collect(tmp.dir).families, { ...options, now: 0 });
    for (let i = 0; i < 10; i++) latency.observe(3);
    const later = nagiosCheck(collect(tmp.dir).families, { ...options, now: 60_000, previous: first.state });
    // Over all 110 observations the median is below 1; over the last 10, in the 2 to 4 bucket.
    assert.equal(later.output.split("|")[1], `'latency_seconds{quantile="0.5"}'=3s`);
    const idle = nagiosCheck(collect(tmp.dir).families, { ...options, now: 120_000, previous: later.state });
    assert.deepEqual([idle.status, idle.output.split("|")[1]], [0, `'latency_seconds{quantile="0.5"}'=U`]);
  });
});

describe("mmstruct check", () => {
  test("mmstruct check exits 0, 1 or 2 for every range form, with the status line and perfdata", () => {
    using tmp = tempDir();
    using metrics = Metrics.create(tmp.dir);
    const gauge = metrics.gauge({ name: "stuff", help: "Stuff", aggregate: "last" });
    for (const [range, alert] of EXAMPLE_RANGES) {
      // One value the range alerts on and one it does not, each at a bound where there is one.
      for (const value of [10, [9.999, 21].find((v) => alert(v) !== alert(10))!]) {
        gauge.set(value);
        const result = check([tmp.dir, "--metric", "stuff", "-c", range]);
        const status = alert(value) ? 2 : 0;
        const word = status === 2 ? "CRITICAL" : "OK";
        const why = status === 2 ? ` (critical range ${range})` : "";
        assert.deepEqual(
          result,
          { status, stdout: `MMSTRUCT ${word} - stuff = ${value}${why}|stuff=${value};;${range}\n`, stderr: "" },
          `-c ${range}, stuff = ${value}`,
        );
      }
    }
    gauge.set(15);
    const warning = check([tmp.dir, "--metric=stuff", "-w10", "--critical", "@~:-1"]);
    assert.deepEqual(warning, {
      status: 1,
      stdout: "MMSTRUCT WARNING - stuff = 15 (warning range 10)|stuff=15;10;@~:-1\n",
      stderr: "",
    });
    // A value starting with "-" is the option's value, as with the C plugins.
    assert.equal(check([tmp.dir, "--metric", "stuff", "-c", "-20:-10"]).status, 2);
  });

  test("mmstruct check is UNKNOWN (exit 3, one line on standard output) for anything that is not a check", () => {
    using tmp = tempDir();
    using metrics = Metrics.create(tmp.path("m"));
    metrics.counter({ name: "n_total", help: "N" }).inc();
    const dir = tmp.path("m");
    mkdirSync(tmp.path("state-dir"));
    const cases: [string[], RegExp][] = [
      [[tmp.path("missing"), "--metric", "n"], /^Cannot read the metrics directory ".*missing": No such file/],
      [[dir, "--metric", "nope"], /^No metric named "nope"/],
      [[dir, "--metric", "n", "-w", "20:10"], /^Invalid range "20:10": the start 20 is greater than the end 10$/],
      [[dir, "--metric", "n", "-c", "ten"], /^Invalid range "ten"/],
      [[dir], /^--metric is required$/],
      [[dir, "--metric", "n", "--frobnicate"], /^unknown option "--frobnicate"$/],
      [[dir, "--metric", "n", "-w"], /^-w needs a value$/],
      [[dir, "--metric", "n", "--metric", "n"], /^--metric is given twice$/],
      [[dir, "--metric", "n", "--label", "novalue"], /^--label must be NAME=VALUE, got "novalue"$/],
      [[dir, "--metric", "n", "--rate"], /^--rate needs --state FILE$/],
      [[dir, "--metric", "n", "--quantile", "1.5"], /^--quantile must be a number from 0 to 1, got "1.5"$/],
      [[dir, "--metric", "n", "--rate", "--state", tmp.path("state-dir")], /^Cannot read the state file /],
      [[dir, dir, "--metric", "n"], /^unexpected argument /],
    ];
    // The process's exit status for the first few; the rest through the same function in this process.
    cases.forEach(([args, message], i) => {
      const result = i < 4 ? check(args) : checkHere(args);
      assert.equal(result.status, 3, args.join(" "));
      assert.equal(result.stdout.split("\n").length, 2, result.stdout);
      assert.match(result.stdout.trimEnd().replace(/^MMSTRUCT UNKNOWN - /, ""), message, args.join(" "));
      assert.ok(result.stdout.startsWith("MMSTRUCT UNKNOWN - "), result.stdout);
    });
    const help = checkHere(["--help"]);
    assert.equal(help.status, 3);
    assert.match(help.stdout, /^Usage: mmstruct check /);
    // An empty range is no threshold (an unset variable in a CheckCommand).
    assert.equal(checkHere([dir, "--metric", "n", "-w", "", "-c", ""]).status, 0);
  });

  test("mmstruct check --rate keeps its state in the file across invocations, replacing it whole", () => {
    using tmp = tempDir();
    using metrics = Metrics.create(tmp.path("m"));
    const hits = metrics.counter({ name: "hits_total", help: "Hits" });
    hits.inc(7);
    const state = tmp.path("check.state");
    const args = [tmp.path("m"), "--metric", "hits_total", "--rate", "--state", state, "-w", "0"];
    const first = check(args);
    assert.deepEqual(first, {
      status: 0,
      stdout: "MMSTRUCT OK - first run: the rate of hits_total is not known yet\n",
      stderr: "",
    });
    const saved = JSON.parse(readFileSync(state, "utf8"));
    assert.deepEqual(saved.series, { "[]": [7] });

    hits.inc(1000);
    const before = Date.now();
    const second = check(args);
    const after = Date.now();
    // The rate is 1000 over the time between the saved check and this one, which ran in [before, after].
    assert.equal(second.status, 1, second.stdout);
    const rate = Number(/^rate\(hits_total\)=([0-9.]+);0;;0$/.exec(second.stdout.trim().split("|")[1])![1]);
    assert.ok(rate >= 1000 / ((after - saved.time) / 1000), `${rate}`);
    assert.ok(rate <= 1000 / ((before - saved.time) / 1000), `${rate}`);
    assert.ok(JSON.parse(readFileSync(state, "utf8")).time >= before);
    assert.deepEqual(readdirSync(tmp.dir).sort(), ["check.state", "m"], "no temporary file left");

    // A corrupt state file: OK without a rate, and a good state written in its place.
    writeFileSync(state, "\0garbage");
    const corrupt = check(args);
    assert.equal(corrupt.status, 0);
    assert.match(corrupt.stdout, /^MMSTRUCT OK - the saved state is not from this check or is corrupt/);
    assert.deepEqual(JSON.parse(readFileSync(state, "utf8")).series, { "[]": [1007] });
  });
});
