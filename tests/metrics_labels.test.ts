import assert from "node:assert/strict";
import { test } from "node:test";
import { collect, Metrics } from "../mod.ts";
import { counterValues, histogramValues } from "./_metrics.ts";
import { tempDir } from "./_helpers.ts";

test("Counter.inc(labels) keeps label sets apart that share values, on the first call and on later ones", () => {
  using tmp = tempDir();
  using metrics = Metrics.create(tmp.dir);
  const counter = metrics.counter({ name: "c_total", help: "", labelNames: ["a", "b", "c"] });
  const sets = [
    { a: "1", b: "2", c: "3" },
    { a: "1", b: "2", c: "1" },
    { a: "2", b: "1", c: "3" },
    { a: "3", b: "2", c: "1" },
    { a: "1", b: "1", c: "1" },
    { a: "1\u00012", b: "", c: "3" },
    { a: "1", b: "\u00012", c: "3" },
  ];
  for (let round = 1; round <= 3; round++) sets.forEach((labels, i) => counter.inc(labels, (i + 1) * round));
  assert.deepEqual(
    counterValues(collect(tmp.dir), "c"),
    new Map(sets.map((labels, i) => [`${labels.a},${labels.b},${labels.c}`, (i + 1) * 6])),
  );
});

test("Counter.inc(labels) counts every spelling of a label set (numbers or strings) in its one series", () => {
  using tmp = tempDir();
  // A cap of 1 series: the spellings of the one label set are more than its lookup index keeps.
  using metrics = Metrics.create(tmp.dir, { maxSeries: 1 });
  const counter = metrics.counter({ name: "c_total", help: "", labelNames: ["method", "code"] });
  const spellings = [
    { method: "GET", code: 200 },
    { method: "GET", code: "200" },
    { code: 200, method: "GET" },
    { code: "200", method: "GET" },
  ];
  for (let round = 0; round < 3; round++) for (const labels of spellings) counter.inc(labels);
  counter.inc({ method: "POST", code: 201 }, 5); // past the cap: the overflow series
  assert.throws(() => counter.inc({ method: "GET", code: 200, path: "/" } as never), /unknown "path"/);
  assert.deepEqual(counterValues(collect(tmp.dir), "c"), new Map([["GET,200", 12], ["true", 5]]));
});

test("Histogram.observe(labels, v) finds the series of a label set however its values are spelled", () => {
  using tmp = tempDir();
  using metrics = Metrics.create(tmp.dir);
  const histogram = metrics.histogram({ name: "h", help: "", labelNames: ["shard"], buckets: [1] });
  histogram.observe({ shard: 7 }, 0.5);
  histogram.observe({ shard: "7" }, 2);
  histogram.observe({ shard: 7 }, 0.5);
  const [[labels, series]] = histogramValues(collect(tmp.dir), "h");
  assert.equal(labels, "7");
  assert.deepEqual(series, { buckets: [2, 3], count: 3, sum: 3 });
});
