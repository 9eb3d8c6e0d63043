import assert from "node:assert/strict";
import { chmodSync, mkdirSync, readdirSync, rmSync, statSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { describe, test } from "node:test";
import { collect, compact, defaultMetricsDirectory, Metrics, MmapError, StructFile } from "../mod.ts";
import { counterValues, family, gaugeValues, histogramValues } from "./_metrics.ts";
import { tempDir } from "./_helpers.ts";

const SEGMENT = /^app\.\d+\.\d+\.[0-9a-f]{16}\.\d+\.metrics\.mms$/;

/** The metrics files of a directory (not the lock file). */
function files(dir: string): string[] {
  return readdirSync(dir).filter((name) => !name.startsWith("."));
}

describe("Metrics", () => {
  test("Metrics.create() makes the directory 0700 with its parents, and one segment file named for the writer", () => {
    using tmp = tempDir();
    const dir = tmp.path("a/b/metrics");
    using metrics = Metrics.create(dir);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(metrics.dir, dir);
    assert.equal(metrics.paths.length, 1);
    const [name] = files(dir);
    assert.match(name, SEGMENT);
    assert.equal(name.split(".")[1], String(process.pid));
    assert.equal(join(dir, name), metrics.paths[0]);
  });

  test("Metrics.create() without a directory uses $MMSTRUCT_METRICS_DIR", () => {
    using tmp = tempDir();
    const saved = process.env.MMSTRUCT_METRICS_DIR;
    process.env.MMSTRUCT_METRICS_DIR = tmp.path("from-env");
    try {
      using metrics = Metrics.create({ name: "env" });
      assert.equal(metrics.dir, tmp.path("from-env"));
      assert.match(files(metrics.dir)[0], /^env\./);
      metrics.counter({ name: "n_total", help: "n" }).inc(4);
      assert.deepEqual(counterValues(collect(), "n"), new Map([["", 4]]));
    } finally {
      if (saved === undefined) delete process.env.MMSTRUCT_METRICS_DIR;
      else process.env.MMSTRUCT_METRICS_DIR = saved;
    }
  });

  test("defaultMetricsDirectory() is $MMSTRUCT_METRICS_DIR made absolute, else under $XDG_RUNTIME_DIR, else /dev/shm", () => {
    const names = ["MMSTRUCT_METRICS_DIR", "XDG_RUNTIME_DIR"] as const;
    const saved = names.map((name) => process.env[name]);
    try {
      process.env.MMSTRUCT_METRICS_DIR = "relative/metrics";
      process.env.XDG_RUNTIME_DIR = "/run/user/1234";
      assert.equal(defaultMetricsDirectory(), join(process.cwd(), "relative/metrics"));
      process.env.MMSTRUCT_METRICS_DIR = ""; // empty is unset, as shells mean it
      assert.equal(defaultMetricsDirectory(), "/run/user/1234/mmstruct-metrics");
      delete process.env.MMSTRUCT_METRICS_DIR;
      delete process.env.XDG_RUNTIME_DIR;
      const uid = process.getuid?.();
      assert.equal(defaultMetricsDirectory(), `/dev/shm/mmstruct-metrics-${uid}`);
      // What Metrics.create() without a directory uses.
      using tmp = tempDir();
      process.env.MMSTRUCT_METRICS_DIR = tmp.path("here");
      using metrics = Metrics.create({ name: "where" });
      assert.equal(metrics.dir, defaultMetricsDirectory());
    } finally {
      names.forEach((name, i) => {
        if (saved[i] === undefined) delete process.env[name];
        else process.env[name] = saved[i];
      });
    }
  });

  test("Metrics.create() starts when compaction fails, and keeps the error on the handle", () => {
    using tmp = tempDir();
    const old = Metrics.create(tmp.path("symlink"), { name: "old" });
    old.counter({ name: "runs_total", help: "Runs" }).inc();
    old.close();
    rmSync(tmp.path("symlink/.compact.lock"));
    symlinkSync("/nonexistent", tmp.path("symlink/.compact.lock"));
    mkdirSync(tmp.path("directory"));
    chmodSync(tmp.path("directory"), 0o700);
    mkdirSync(tmp.path("directory/.compact.lock"));
    for (const kind of ["symlink", "directory"]) {
      using metrics = Metrics.create(tmp.path(kind));
      assert.ok(metrics.compactionError instanceof Error, `${kind}: no compaction error kept`);
      metrics.counter({ name: "runs_total", help: "Runs" }).inc();
    }
    // Nothing was lost: the gone writer's file is still counted.
    assert.deepEqual(counterValues(collect(tmp.path("symlink")), "runs"), new Map([["", 2]]));
    using fine = Metrics.create(tmp.path("fine"));
    assert.equal(fine.compactionError, undefined);
  });

  test("Metrics.create() refuses a bad name, series cap or directory", () => {
    using tmp = tempDir();
    assert.throws(() => Metrics.create(tmp.dir, { name: "a.b" }), { name: "TypeError", message: /"a\.b"/ });
    assert.throws(() => Metrics.create(tmp.dir, { name: "" }), TypeError);
    assert.throws(() => Metrics.create(tmp.dir, { maxSeries: 0 }), { name: "RangeError", message: /maxSeries/ });
    assert.throws(() => Metrics.create(tmp.dir, { maxSeries: 1.5 }), RangeError);
    assert.throws(() => Metrics.create(""), TypeError);
    const open = tmp.path("open");
    mkdirSync(open);
    chmodSync(open, 0o777); // anyone could swap the files in it
    assert.throws(() => Metrics.create(open), MmapError);
    assert.deepEqual(files(tmp.dir), ["open"]);
  });

  test("Metrics.counter() refuses bad names and label sets, naming the problem", () => {
    using tmp = tempDir();
    using metrics = Metrics.create(tmp.dir);
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ name: "bad-name", help: "" }, /"bad-name"/],
      [{ name: "9lives", help: "" }, /"9lives"/],
      [{ name: "ok", help: 3 }, /help/],
      [{ name: "ok", help: "", labelNames: ["a-b"] }, /"a-b"/],
      [{ name: "ok", help: "", labelNames: ["__a"] }, /"__a".*reserve/],
      [{ name: "ok", help: "", labelNames: ["a", "a"] }, /"a" is listed twice/],
      [{ name: "ok", help: "", labelNames: "a" }, /labelNames/],
      [{ name: "ok", help: "", unit: "seconds" }, /end with "_seconds"/],
      [{ name: "mmstruct_x", help: "" }, /reserved/],
      [{ name: "ok", help: "", labelNames: ["mmstruct_overflow"] }, /reserved/],
    ];
    for (const [config, message] of bad) {
      assert.throws(() => metrics.counter(config as never), { name: "TypeError", message }, JSON.stringify(config));
    }
    assert.throws(() => metrics.histogram({ name: "h", help: "", labelNames: ["le"] }), /"le" is reserved/);
    assert.throws(() => metrics.histogram({ name: "h", help: "", buckets: [1, 1] }), /strictly ascending/);
    assert.throws(() => metrics.histogram({ name: "h", help: "", buckets: [NaN] }), /finite/);
    assert.throws(() => metrics.gauge({ name: "g", help: "", aggregate: "avg" as never }), /aggregate.*"avg"/);
    assert.throws(() => metrics.gauge({ name: "g", help: "", labelNames: ["pid"], aggregate: "each" }), /"pid"/);
    assert.throws(() => metrics.counter(null as never), TypeError);
    assert.throws(() => metrics.counter({ name: "ok", help: "", maxSeries: -1 }), RangeError);
  });

  test("Metrics.counter() returns the same counter for the same declaration and refuses a different one", () => {
    using tmp = tempDir();
    using metrics = Metrics.create(tmp.dir);
    const a = metrics.counter({ name: "hits_total", help: "Hits", labelNames: ["x"] });
    assert.equal(metrics.counter({ name: "hits_total", help: "Hits", labelNames: ["x"] }), a);
    // "hits" is the family of "hits_total": the same metric.
    assert.equal(metrics.counter({ name: "hits", help: "Hits", labelNames: ["x"] }), a);
    assert.throws(() => metrics.counter({ name: "hits_total", help: "Other", labelNames: ["x"] }), /help is "Other"/);
    assert.throws(() => metrics.counter({ name: "hits_total", help: "Hits", labelNames: ["y"] }), /label names/);
    assert.throws(() => metrics.gauge({ name: "hits", help: "Hits", labelNames: ["x"] }), /a gauge, not a counter/);
    metrics.histogram({ name: "h", help: "", buckets: [1] });
    assert.throws(() => metrics.histogram({ name: "h", help: "", buckets: [2] }), /buckets/);
    metrics.gauge({ name: "g", help: "", aggregate: "max" });
    assert.throws(() => metrics.gauge({ name: "g", help: "", aggregate: "min" }), /aggregate/);
  });

  test("Metrics.close() makes later increments no-ops and later declarations a TypeError; it can be called twice", () => {
    using tmp = tempDir();
    const metrics = Metrics.create(tmp.dir);
    const counter = metrics.counter({ name: "c_total", help: "", labelNames: ["k"] });
    const bound = counter.labels({ k: "a" });
    bound.inc(2);
    metrics.close();
    metrics.close();
    assert.equal(metrics.closed, true);
    bound.inc(5);
    counter.inc({ k: "a" }, 5);
    counter.inc({ k: "new" }, 5);
    assert.throws(() => metrics.counter({ name: "d_total", help: "" }), /closed/);
    assert.deepEqual(counterValues(collect(tmp.dir), "c"), new Map([["a", 2]]));
  });
});

describe("Counter", () => {
  test("Counter.inc() adds to the unlabelled series; labels() by name and by position is one child", () => {
    using tmp = tempDir();
    using metrics = Metrics.create(tmp.dir);
    const plain = metrics.counter({ name: "plain_total", help: "" });
    plain.inc();
    plain.inc(2.5);
    const requests = metrics.counter({ name: "requests_total", help: "", labelNames: ["method", "code"] });
    requests.inc({ method: "GET", code: 200 });
    requests.inc({ code: "200", method: "GET" }, 2);
    requests.labels({ method: "GET", code: "200" }).inc();
    requests.labels("GET", 200).inc(10);
    requests.labels("POST", "500").inc();
    const collected = collect(tmp.dir);
    assert.deepEqual(counterValues(collected, "plain"), new Map([["", 3.5]]));
    assert.deepEqual(counterValues(collected, "requests"), new Map([["GET,200", 14], ["POST,500", 1]]));
  });

  test("Counter.inc() refuses negative, infinite, NaN and non-number increments and records none of them", () => {
    using tmp = tempDir();
    using metrics = Metrics.create(tmp.dir);
    const counter = metrics.counter({ name: "c_total", help: "", labelNames: ["k"] });
    const child = counter.labels({ k: "a" });
    for (const value of [-1, -Infinity, Infinity, NaN]) {
      assert.throws(() => child.inc(value), { name: "RangeError", message: new RegExp(String(value)) });
      assert.throws(() => counter.inc({ k: "a" }, value), RangeError);
    }
    assert.throws(() => child.inc("1" as never), TypeError);
    assert.throws(() => child.inc(1n as never), TypeError);
    child.inc(0);
    child.inc();
    assert.deepEqual(counterValues(collect(tmp.dir), "c"), new Map([["a", 1]]));
  });

  test("Counter.inc() refuses missing, unknown and badly typed labels, naming them", () => {
    using tmp = tempDir();
    using metrics = Metrics.create(tmp.dir);
    const counter = metrics.counter({ name: "c_total", help: "", labelNames: ["method", "code"] });
    counter.inc({ method: "GET", code: "200" }); // a known label set: extras must still be refused
    assert.throws(() => counter.inc({ method: "GET" }), { name: "TypeError", message: /missing "code"/ });
    assert.throws(
      () => counter.inc({ method: "GET", code: "200", path: "/" } as never),
      { name: "TypeError", message: /unknown "path"/ },
    );
    assert.throws(() => counter.inc({ method: "GET", code: true } as never), /"code" must be a string or number/);
    assert.throws(() => counter.inc({ method: "GET", code: "a\0b" }), /NUL/);
    assert.throws(() => counter.inc(), /label names \[method, code\]/);
    assert.throws(() => counter.labels("GET"), /expected 2 values/);
    const plain = metrics.counter({ name: "p_total", help: "" });
    assert.throws(() => plain.inc({ x: "1" } as never), /no label names/);
    plain.inc({});
    assert.deepEqual(counterValues(collect(tmp.dir), "c"), new Map([["GET,200", 1]]));
    assert.deepEqual(counterValues(collect(tmp.dir), "p"), new Map([["", 1]]));
  });

  test("Counter label values are arbitrary UTF-8, kept exactly", () => {
    using tmp = tempDir();
    using metrics = Metrics.create(tmp.dir);
    const counter = metrics.counter({ name: "c_total", help: "", labelNames: ["route"] });
    const routes = ["/caf\u00e9", 'quote " back \\ slash', "new\nline", "\u{1f600}", ""];
    routes.forEach((route, i) => counter.inc({ route }, i + 1));
    const f = family(collect(tmp.dir), "c");
    assert.deepEqual(
      new Map(f.series.map((s) => [s.labels.route, "value" in s ? s.value : NaN])),
      new Map(routes.map((route, i) => [route, i + 1])),
    );
  });

  test("Counter series past maxSeries go to the overflow series, so the total stays exact", () => {
    using tmp = tempDir();
    using metrics = Metrics.create(tmp.dir, { maxSeries: 3 });
    const counter = metrics.counter({ name: "c_total", help: "", labelNames: ["id"] });
    const small = metrics.counter({ name: "s_total", help: "", labelNames: ["id"], maxSeries: 1 });
    for (let i = 0; i < 10; i++) {
      counter.inc({ id: String(i) }, i);
      small.inc({ id: String(i) });
    }
    counter.inc({ id: "0" }, 100); // an early label set keeps its own series
    const collected = collect(tmp.dir);
    const values = counterValues(collected, "c");
    assert.deepEqual(values, new Map([["0", 100], ["1", 1], ["2", 2], ["true", 3 + 4 + 5 + 6 + 7 + 8 + 9]]));
    const overflow = family(collected, "c").series.at(-1)!;
    assert.deepEqual(overflow.labels, { mmstruct_overflow: "true" });
    assert.deepEqual(counterValues(collected, "s"), new Map([["0", 1], ["true", 9]]));
  });

  test("collect() and compact() keep a label value U+FFFF apart from the overflow series", () => {
    using tmp = tempDir();
    const writer = Metrics.create(tmp.dir, { name: "gone", maxSeries: 1 });
    const counter = writer.counter({ name: "req_total", help: "", labelNames: ["k"] });
    counter.inc({ k: "\uffff" }, 1);
    counter.inc({ k: "other" }, 100); // past the cap: the overflow series
    const expected = [{ labels: { k: "\uffff" }, value: 1 }, { labels: { mmstruct_overflow: "true" }, value: 100 }];
    const series = () =>
      family(collect(tmp.dir), "req").series.map((s) => ({ labels: s.labels, value: "value" in s ? s.value : NaN }));
    assert.deepEqual(series(), expected);
    writer.close();
    assert.equal(compact(tmp.dir).compacted, 1);
    assert.deepEqual(series(), expected);
  });

  test("Counter series fill a segment and continue in the next one, all of them counted", () => {
    using tmp = tempDir();
    using metrics = Metrics.create(tmp.dir);
    const counter = metrics.counter({ name: "c_total", help: "", labelNames: ["id"], maxSeries: 5000 });
    // Each series record is about 70 bytes: 2000 of them fill the 32 KiB entry log of the first segment.
    for (let i = 0; i < 2000; i++) counter.inc({ id: `series-${i}` }, i);
    const late = metrics.counter({ name: "late_total", help: "" }); // declared in a later segment
    late.inc(7);
    assert.ok(metrics.paths.length >= 2, `${metrics.paths.length} segments`);
    assert.deepEqual(files(tmp.dir).sort(), metrics.paths.map((p) => p.slice(tmp.dir.length + 1)).sort());
    const collected = collect(tmp.dir);
    const values = counterValues(collected, "c");
    assert.equal(values.size, 2000);
    for (let i = 0; i < 2000; i++) assert.equal(values.get(`series-${i}`), i);
    assert.deepEqual(counterValues(collected, "late"), new Map([["", 7]]));
    assert.deepEqual(collected.writers, { live: 1, dead: 0, archives: 0 });
  });
});

describe("Gauge", () => {
  test("Gauge.set(), inc(), dec() and setToCurrentTime() change the value; bad values are refused", () => {
    using tmp = tempDir();
    using metrics = Metrics.create(tmp.dir);
    const gauge = metrics.gauge({ name: "g", help: "", labelNames: ["k"] });
    gauge.set({ k: "a" }, 10);
    gauge.inc({ k: "a" }, 5);
    gauge.dec({ k: "a" });
    gauge.labels("b").set(-2.5);
    gauge.labels("b").inc();
    const before = Date.now() / 1000;
    gauge.setToCurrentTime({ k: "t" });
    const after = Date.now() / 1000;
    assert.throws(() => gauge.labels("a").set("1" as never), TypeError);
    assert.throws(() => gauge.labels("a").inc(Infinity), RangeError);
    assert.throws(() => gauge.labels("a").dec(NaN), RangeError);
    const values = gaugeValues(collect(tmp.dir), "g");
    assert.equal(values.get("a"), 14);
    assert.equal(values.get("b"), -1.5);
    assert.ok(values.get("t")! >= before && values.get("t")! <= after);
  });

  test("Gauge with aggregate each reports one series per writer, labelled with its pid", () => {
    using tmp = tempDir();
    using metrics = Metrics.create(tmp.dir);
    metrics.gauge({ name: "g", help: "", labelNames: ["k"], aggregate: "each" }).set({ k: "x" }, 3);
    const f = family(collect(tmp.dir), "g");
    assert.deepEqual(f.series, [{ labels: { k: "x", pid: String(process.pid) }, value: 3 }]);
  });

  test("Gauge with aggregate each keeps two writers with one pid and thread apart, labelled with their writer ids", () => {
    using tmp = tempDir();
    // Two handles of one thread stand in for two containers whose writers have the same pid.
    using a = Metrics.create(tmp.dir, { name: "a" });
    using b = Metrics.create(tmp.dir, { name: "b" });
    a.gauge({ name: "q", help: "", aggregate: "each" }).set(5);
    b.gauge({ name: "q", help: "", aggregate: "each" }).set(7);
    const ids = [a, b].map((m) => m.paths[0].split(".").at(-4)!);
    const f = family(collect(tmp.dir), "q");
    const pid = String(process.pid);
    assert.deepEqual(
      new Set(f.series.map((s) => JSON.stringify([s.labels, "value" in s ? s.value : NaN]))),
      new Set(
        [[{ pid, mmstruct_writer: ids[0] }, 5], [{ pid, mmstruct_writer: ids[1] }, 7]].map((x) => JSON.stringify(x)),
      ),
    );
    assert.throws(
      () => a.gauge({ name: "r", help: "", labelNames: ["mmstruct_writer"], aggregate: "each" }),
      TypeError,
    );
  });
});

describe("Histogram", () => {
  test("Histogram.observe() counts each value in the first bucket whose bound is at least it", () => {
    using tmp = tempDir();
    using metrics = Metrics.create(tmp.dir);
    const h = metrics.histogram({ name: "h", help: "", buckets: [1, 2, 4] });
    for (const value of [0.5, 1, 1.5, 2, 3, 4, 5, -1]) h.observe(value);
    const [series] = histogramValues(collect(tmp.dir), "h").values();
    // Cumulative: <= 1: 0.5, 1, -1; <= 2: and 1.5, 2; <= 4: and 3, 4; +Inf: and 5.
    assert.deepEqual(series, { buckets: [3, 5, 7, 8], count: 8, sum: 16 });
    const f = family(collect(tmp.dir), "h");
    assert.ok(f.type === "histogram");
    assert.deepEqual(f.series[0].buckets.map((b) => b.le), [1, 2, 4, Infinity]);
  });

  test("Histogram.observe() with many buckets (a binary search) counts as a linear scan would", () => {
    using tmp = tempDir();
    using metrics = Metrics.create(tmp.dir);
    const bounds = Array.from({ length: 40 }, (_, i) => i * 0.5);
    const h = metrics.histogram({ name: "h", help: "", buckets: bounds });
    const values = Array.from({ length: 500 }, (_, i) => ((i * 7919) % 2100) / 100 - 0.5);
    for (const value of values) h.observe(value);
    const expected = bounds.map((bound) => values.filter((v) => v <= bound).length).concat(values.length);
    const [series] = histogramValues(collect(tmp.dir), "h").values();
    assert.deepEqual(series.buckets, expected);
  });

  test("Histogram.observe() refuses non-finite and non-number values and records none", () => {
    using tmp = tempDir();
    using metrics = Metrics.create(tmp.dir);
    const h = metrics.histogram({ name: "h", help: "", labelNames: ["k"], buckets: [1] });
    for (const value of [NaN, Infinity, -Infinity]) assert.throws(() => h.observe({ k: "a" }, value), RangeError);
    assert.throws(() => h.labels("a").observe("1" as never), TypeError);
    assert.throws(() => h.observe(1), /label names \[k\]/);
    h.observe({ k: "a" }, 0.5);
    assert.deepEqual([...histogramValues(collect(tmp.dir), "h").values()], [{ buckets: [1, 1], count: 1, sum: 0.5 }]);
  });

  test("Histogram.startTimer() observes the seconds elapsed when its result is called", () => {
    using tmp = tempDir();
    using metrics = Metrics.create(tmp.dir);
    const h = metrics.histogram({ name: "h_seconds", help: "", unit: "seconds", labelNames: ["a", "b"] });
    const end = h.startTimer({ a: "1" });
    const seconds = end({ b: "2" });
    const child = h.labels("1", "3").startTimer();
    const more = child();
    assert.ok(seconds >= 0 && more >= 0);
    const values = histogramValues(collect(tmp.dir), "h_seconds");
    assert.deepEqual(values.get("1,2"), { buckets: values.get("1,2")!.buckets, count: 1, sum: seconds });
    assert.equal(values.get("1,3")!.count, 1);
    assert.equal(values.get("1,3")!.sum, more);
    assert.throws(() => h.startTimer({ a: "1" })(), /missing "b"/);
  });

  test("Histogram defaults to Prometheus' default buckets", () => {
    using tmp = tempDir();
    using metrics = Metrics.create(tmp.dir);
    const h = metrics.histogram({ name: "h", help: "" });
    assert.deepEqual(h.buckets, [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);
    assert.deepEqual(metrics.histogram({ name: "i", help: "", buckets: [1, Infinity] }).buckets, [1]);
  });
});

describe("collect()", () => {
  test("collect() sees series and metrics added since the previous scrape", () => {
    using tmp = tempDir();
    using metrics = Metrics.create(tmp.dir);
    const counter = metrics.counter({ name: "c_total", help: "", labelNames: ["k"] });
    counter.inc({ k: "a" });
    assert.deepEqual(counterValues(collect(tmp.dir), "c"), new Map([["a", 1]]));
    counter.inc({ k: "a" });
    counter.inc({ k: "b" }, 5);
    metrics.gauge({ name: "g", help: "" }).set(9);
    const collected = collect(tmp.dir);
    assert.deepEqual(counterValues(collected, "c"), new Map([["a", 2], ["b", 5]]));
    assert.deepEqual(gaugeValues(collected, "g"), new Map([["", 9]]));
  });

  test("collect() reports its own families, and leaves them out with meta: false", () => {
    using tmp = tempDir();
    {
      using gone = Metrics.create(tmp.dir);
      gone.counter({ name: "a_total", help: "" }).inc();
    }
    using metrics = Metrics.create(tmp.dir, { name: "live" });
    metrics.counter({ name: "a_total", help: "" }).inc();
    // The gone writer's file was compacted by the second create: it is in the archive.
    const collected = collect(tmp.dir);
    assert.deepEqual(collected.writers, { live: 1, dead: 0, archives: 1 });
    assert.deepEqual(collected.families.map((f) => f.name), ["a", "mmstruct_scrape_errors", "mmstruct_writers"]);
    assert.deepEqual(gaugeValues(collected, "mmstruct_writers"), new Map([["dead", 0], ["live", 1]]));
    assert.deepEqual(gaugeValues(collected, "mmstruct_scrape_errors"), new Map([["", 0]]));
    assert.deepEqual(counterValues(collected, "a"), new Map([["", 2]]));
    assert.deepEqual(collect(tmp.dir, { meta: false }).families.map((f) => f.name), ["a"]);
  });

  test("collect() of a missing directory throws an MmapError; bad arguments a TypeError", () => {
    using tmp = tempDir();
    assert.throws(() => collect(tmp.path("missing")), { name: "MmapError", code: "ENOENT" });
    assert.throws(() => collect(""), TypeError);
    assert.throws(() => collect(tmp.dir, { meta: "yes" as never }), TypeError);
  });

  test("Metrics segment files are struct files of the documented fields, and count after close()", () => {
    using tmp = tempDir();
    const metrics = Metrics.create(tmp.dir);
    metrics.counter({ name: "c_total", help: "" }).inc(3);
    const [path] = metrics.paths;
    metrics.close();
    using file = StructFile.open(path);
    assert.equal(
      file.type.fields.map((f) => f.name).join(","),
      [
        "metrics_format",
        "entries_length",
        "slots_used",
        "flags",
        "writer_id",
        "pid",
        "thread",
        "started_ms",
        "generation",
        "entries",
        "slots",
      ].join(","),
    );
    assert.deepEqual(counterValues(collect(tmp.dir), "c"), new Map([["", 3]]));
  });
});
