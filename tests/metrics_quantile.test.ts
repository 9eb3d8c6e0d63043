import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { test } from "node:test";
import { histogramQuantile, Metrics } from "../mod.ts";
import { collect } from "../mod.ts";
import { seededRandom, tempDir } from "./_helpers.ts";
import { skip } from "./_prometheus_tools.ts";

type Bucket = { le: number; count: number };

/** Bucket sets of every shape the estimator distinguishes: negative and zero bounds, empty buckets, all in +Inf. */
function bucketSets(): Bucket[][] {
  const next = seededRandom(11);
  const sets: Bucket[][] = [
    [{ le: 0.1, count: 10 }, { le: 0.5, count: 20 }, { le: Infinity, count: 20 }],
    [{ le: -1, count: 3 }, { le: 0, count: 3 }, { le: 2, count: 9 }, { le: Infinity, count: 12 }],
    [{ le: 0, count: 5 }, { le: 1, count: 5 }, { le: Infinity, count: 5 }],
    [{ le: 1, count: 0 }, { le: 10, count: 0 }, { le: Infinity, count: 7 }],
    // Counts going down: a torn read, which Prometheus makes monotonic.
    [{ le: 1, count: 4 }, { le: 2, count: 3 }, { le: 4, count: 8 }, { le: Infinity, count: 8 }],
  ];
  for (let i = 0; i < 20; i++) {
    const n = 1 + Math.floor(next() * 6);
    let le = next() * 4 - 2;
    let count = 0;
    const set: Bucket[] = [];
    for (let j = 0; j < n; j++) {
      count += Math.floor(next() * 4) * Math.floor(next() * 3);
      set.push({ le: Number(le.toFixed(3)), count });
      le += 0.001 + next() * 3;
    }
    set.push({ le: Infinity, count: count + Math.floor(next() * 2) });
    sets.push(set);
  }
  return sets;
}

const QUANTILES = [0, 0.01, 0.25, 0.5, 0.9, 0.99, 1];

test("histogramQuantile() agrees with Prometheus' histogram_quantile() (promtool test rules)", (t) => {
  if (skip.promtool) return t.skip(skip.promtool);
  using tmp = tempDir();
  const sets = bucketSets();
  const series = sets.flatMap((set, i) =>
    set.map((b) =>
      `      - series: 'h_bucket{set="${i}",le="${b.le === Infinity ? "+Inf" : b.le}"}'\n        values: '${b.count}'`
    )
  );
  const tests: string[] = [];
  let compared = 0;
  for (const q of QUANTILES) {
    const samples: string[] = [];
    sets.forEach((set, i) => {
      const expected = histogramQuantile(q, set);
      // No estimate (NaN): the expression below drops NaN (it is not equal to itself), so Prometheus must have none either.
      if (Number.isNaN(expected)) return;
      compared++;
      const value = expected === Infinity ? "+Inf" : expected === -Infinity ? "-Inf" : String(expected);
      samples.push(`          - labels: '{set="${i}"}'\n            value: ${value}`);
    });
    tests.push(
      `      - expr: histogram_quantile(${q}, h_bucket) == histogram_quantile(${q}, h_bucket)\n        eval_time: 0m\n` +
        `        exp_samples:\n${samples.join("\n")}`,
    );
  }
  const file = tmp.path("quantile_test.yml");
  writeFileSync(
    file,
    `tests:\n  - interval: 1m\n    input_series:\n${series.join("\n")}\n    promql_expr_test:\n${tests.join("\n")}\n`,
  );
  const result = spawnSync("promtool", ["test", "rules", file], { encoding: "utf8", timeout: 120_000 });
  assert.ok(compared > 100, `only ${compared} estimates compared`);
  assert.equal(result.status, 0, result.stdout + result.stderr);
});

test("histogramQuantile() estimates from a collected histogram's buckets", () => {
  using tmp = tempDir();
  using metrics = Metrics.create(tmp.dir);
  const h = metrics.histogram({ name: "wait_seconds", help: "Wait", buckets: [1, 2, 4] });
  for (const v of [0.5, 1.5, 1.5, 3]) h.observe(v);
  const [family] = collect(tmp.dir, { meta: false }).families;
  assert.ok(family.type === "histogram");
  const { buckets } = family.series[0];
  // Rank 2 of 4 is the first of the two observations in (1, 2]: halfway through it.
  assert.equal(histogramQuantile(0.5, buckets), 1.5);
  // Rank 1 is the first bucket's only observation, its whole width.
  assert.equal(histogramQuantile(0.25, buckets), 1);
  assert.equal(histogramQuantile(0.875, buckets), 3);
});

test("histogramQuantile() returns NaN without observations, without +Inf or with one bucket", () => {
  assert.ok(Number.isNaN(histogramQuantile(0.5, [{ le: 1, count: 0 }, { le: Infinity, count: 0 }])));
  assert.ok(Number.isNaN(histogramQuantile(0.5, [{ le: 1, count: 3 }, { le: 2, count: 3 }])));
  assert.ok(Number.isNaN(histogramQuantile(0.5, [{ le: Infinity, count: 3 }])));
  assert.ok(Number.isNaN(histogramQuantile(0.5, [])));
});

test("histogramQuantile() refuses a quantile outside 0 to 1 and malformed buckets with typed errors", () => {
  const buckets = [{ le: 1, count: 1 }, { le: Infinity, count: 1 }];
  for (const q of [-0.1, 1.5, NaN, "0.5" as unknown as number]) {
    assert.throws(() => histogramQuantile(q, buckets), RangeError);
  }
  assert.throws(() => histogramQuantile(0.5, "buckets" as unknown as Bucket[]), TypeError);
  assert.throws(() => histogramQuantile(0.5, [{ le: 1 } as Bucket, { le: Infinity, count: 1 }]), TypeError);
  assert.throws(() => histogramQuantile(0.5, [null as unknown as Bucket]), TypeError);
  assert.throws(
    () => histogramQuantile(0.5, [{ le: 2, count: 1 }, { le: 1, count: 1 }, { le: Infinity, count: 1 }]),
    /buckets must be ascending by le, got 1 after 2/,
  );
});
