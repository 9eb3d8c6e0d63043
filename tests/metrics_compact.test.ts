import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, linkSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { collect, compact, Metrics } from "../mod.ts";
import type { Runtime } from "../ffi/libc.ts";
import { counterValues, gaugeValues, writeMetricsFile } from "./_metrics.ts";
import { command, finish, lines, runtime, tempDir } from "./_helpers.ts";

function metricsFiles(dir: string): string[] {
  return readdirSync(dir).filter((name) => !name.startsWith(".")).sort();
}

/** `count` gone writers, each having counted `jobs_total{writer}` once per its number (1, 2, …). */
function goneWriters(dir: string, count: number): number {
  const handles = Array.from({ length: count }, (_, i) => {
    const metrics = Metrics.create(dir, { name: `gone${i}` });
    metrics.counter({ name: "jobs_total", help: "Jobs", labelNames: ["writer"] }).inc({ writer: `w${i}` }, i + 1);
    metrics.gauge({ name: "up", help: "Up" }).set(1);
    return metrics;
  });
  // Closed only once all exist: Metrics.create compacts, and these must stay separate files.
  for (const metrics of handles) metrics.close();
  return (count * (count + 1)) / 2;
}

function jobs(dir: string): number {
  return [...counterValues(collect(dir), "jobs").values()].reduce((a, b) => a + b, 0);
}

/**
 * A compactor in a child process on `on`, made to pause at `point` until `resume` exists
 * (the test-only hook of compact()), with a promise of the moment it pauses.
 */
function pausedCompactor(on: Runtime, dir: string, point: string, resume = "") {
  const [file, args] = command(on, "fixtures/metrics_child", ["compact", dir]);
  const child = spawn(file, args, {
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, MMSTRUCT_TEST_COMPACT_PAUSE: resume === "" ? point : `${point}:${resume}` },
  });
  let err = "";
  const paused = new Promise<void>((resolve, reject) => {
    child.stderr!.on("data", (chunk) => {
      err += chunk;
      if (err.includes(`mmstruct: compaction paused ${point}`)) resolve();
    });
    child.once("exit", (code) => reject(new Error(`compactor exited (${code}) before pausing: ${err}`)));
  });
  paused.catch(() => {});
  const output = lines(child);
  const result = finish(child);
  return { child, paused, output, result };
}

test("compact() folds the files of gone writers into an archive, keeps the totals, and never touches a live writer", () => {
  using tmp = tempDir();
  using live = Metrics.create(tmp.dir, { name: "live" }); // first: its own start would compact the others
  const total = goneWriters(tmp.dir, 3);
  const liveJobs = live.counter({ name: "jobs_total", help: "Jobs", labelNames: ["writer"] }).labels("live");
  liveJobs.inc(10);
  live.gauge({ name: "up", help: "Up" }).set(1);
  assert.equal(jobs(tmp.dir), total + 10);

  assert.deepEqual(compact(tmp.dir), { compacted: 3, removed: 3, skipped: false });
  assert.deepEqual(metricsFiles(tmp.dir), ["archive.1.metrics.mms", live.paths[0].split("/").at(-1)]);
  liveJobs.inc(5); // the live file is the same file, still counting
  const after = collect(tmp.dir);
  assert.deepEqual(counterValues(after, "jobs"), new Map([["w0", 1], ["w1", 2], ["w2", 3], ["live", 15]]));
  assert.deepEqual(gaugeValues(after, "up"), new Map([["", 1]])); // the gone writers' gauges were dropped
  assert.deepEqual(after.writers, { live: 1, dead: 0, archives: 1 });

  assert.deepEqual(compact(tmp.dir), { compacted: 0, removed: 0, skipped: false });
  live.close();
  assert.deepEqual(compact(tmp.dir), { compacted: 1, removed: 2, skipped: false });
  assert.deepEqual(metricsFiles(tmp.dir), ["archive.2.metrics.mms"]);
  assert.equal(jobs(tmp.dir), total + 15);
});

test("compact() while another compactor runs is skipped; readers count nothing twice while it has published", async () => {
  using tmp = tempDir();
  const total = goneWriters(tmp.dir, 4);
  const resume = tmp.path(".resume");
  const compactor = pausedCompactor(runtime === "bun" ? "node" : "bun", tmp.dir, "after-publish", resume);
  try {
    await compactor.paused;
    // The archive is published and the files it holds are still there: readers take the
    // archive and ignore them.
    assert.deepEqual(metricsFiles(tmp.dir).length, 5);
    assert.ok(existsSync(tmp.path("archive.1.metrics.mms")));
    const during = collect(tmp.dir);
    assert.equal([...counterValues(during, "jobs").values()].reduce((a, b) => a + b, 0), total);
    assert.deepEqual(during.writers, { live: 0, dead: 0, archives: 1 });
    assert.deepEqual(compact(tmp.dir), { compacted: 0, removed: 0, skipped: true });
    // A writer starting now is live: its own compaction is skipped, and nothing of it is held.
    using late = Metrics.create(tmp.dir, { name: "late" });
    late.counter({ name: "jobs_total", help: "Jobs", labelNames: ["writer"] }).inc({ writer: "late" }, 100);
    assert.equal(jobs(tmp.dir), total + 100);
    writeFileSync(resume, "");
    const { code, stdout, stderr } = await compactor.result;
    assert.equal(code, 0, stderr);
    assert.deepEqual(JSON.parse(stdout), { compacted: 4, removed: 4, skipped: false });
    assert.deepEqual(metricsFiles(tmp.dir), ["archive.1.metrics.mms", late.paths[0].split("/").at(-1)]);
    assert.equal(jobs(tmp.dir), total + 100);
  } finally {
    compactor.child.kill("SIGKILL");
  }
});

test("compact() killed after publishing leaves a directory that reads the same, and the next one cleans it up", async () => {
  using tmp = tempDir();
  const total = goneWriters(tmp.dir, 3);
  const compactor = pausedCompactor(runtime === "deno" ? "node" : "deno", tmp.dir, "after-publish");
  try {
    await compactor.paused;
  } finally {
    compactor.child.kill("SIGKILL");
  }
  assert.equal((await compactor.result).signal, "SIGKILL");
  assert.equal(metricsFiles(tmp.dir).length, 4); // the archive and the three files it holds
  assert.equal(jobs(tmp.dir), total);
  const mark = readFileSync(tmp.path(".compact.lock"), "latin1");
  assert.match(mark, /^1 [0-9a-f]+\n$/);
  // The leftovers go; nothing is folded twice.
  assert.deepEqual(compact(tmp.dir), { compacted: 0, removed: 3, skipped: false });
  assert.notEqual(readFileSync(tmp.path(".compact.lock"), "latin1"), mark);
  assert.deepEqual(metricsFiles(tmp.dir), ["archive.1.metrics.mms"]);
  assert.equal(jobs(tmp.dir), total);
  // And a later compaction with new work carries on from the archive.
  goneWriters(tmp.dir, 1);
  assert.deepEqual(compact(tmp.dir), { compacted: 1, removed: 2, skipped: false });
  assert.deepEqual(metricsFiles(tmp.dir), ["archive.2.metrics.mms"]);
  assert.equal(jobs(tmp.dir), total + 1);
});

test("compact() killed before publishing changes nothing; its temporary file is removed by the next one", async () => {
  using tmp = tempDir();
  const total = goneWriters(tmp.dir, 3);
  const before = metricsFiles(tmp.dir);
  const compactor = pausedCompactor(runtime === "node" ? "bun" : "node", tmp.dir, "before-publish");
  try {
    await compactor.paused;
    assert.deepEqual(compact(tmp.dir), { compacted: 0, removed: 0, skipped: true });
  } finally {
    compactor.child.kill("SIGKILL");
  }
  assert.equal((await compactor.result).signal, "SIGKILL");
  assert.deepEqual(metricsFiles(tmp.dir), before);
  assert.equal(jobs(tmp.dir), total);
  // What a compactor killed inside MappedFile.create would leave.
  writeFileSync(tmp.path(".archive.1.metrics.mms.12345.abcdef.tmp"), "partial");
  assert.deepEqual(compact(tmp.dir), { compacted: 3, removed: 3, skipped: false });
  assert.deepEqual(readdirSync(tmp.dir).sort(), [".compact.lock", "archive.1.metrics.mms"]);
  assert.equal(jobs(tmp.dir), total);
});

test("compact() waiting to publish while a writer starts folds only the files it found gone", async () => {
  using tmp = tempDir();
  const total = goneWriters(tmp.dir, 2);
  const resume = tmp.path(".resume");
  const compactor = pausedCompactor(runtime, tmp.dir, "before-publish", resume);
  try {
    await compactor.paused;
    using late = Metrics.create(tmp.dir, { name: "late" });
    late.counter({ name: "jobs_total", help: "Jobs", labelNames: ["writer"] }).inc({ writer: "late" }, 50);
    late.close(); // gone before the compactor publishes: still not in its list
    writeFileSync(resume, "");
    const { code, stdout, stderr } = await compactor.result;
    assert.equal(code, 0, stderr);
    assert.deepEqual(JSON.parse(stdout), { compacted: 2, removed: 2, skipped: false });
    assert.deepEqual(metricsFiles(tmp.dir), ["archive.1.metrics.mms", late.paths[0].split("/").at(-1)]);
    assert.equal(jobs(tmp.dir), total + 50);
  } finally {
    compactor.child.kill("SIGKILL");
  }
  assert.deepEqual(compact(tmp.dir), { compacted: 1, removed: 2, skipped: false });
  assert.equal(jobs(tmp.dir), total + 50);
});

test("collect() during a storm of writers that start, compact and exit never counts a file twice or misses one", async () => {
  using tmp = tempDir();
  const total = goneWriters(tmp.dir, 5);
  // Children on two runtimes start 40 writers each, one after the other: each start
  // compacts the writers before it. They add nothing to jobs_total, so every scrape must
  // see exactly the total of the first five, and one each to churn_total, which no scrape
  // may see go back.
  const storm = (["deno", "node", "bun"] as const).filter((on) => on !== runtime).map((on) => {
    const [file, args] = command(on, "fixtures/metrics_child", ["churn", tmp.dir, "40"]);
    return finish(spawn(file, args, { stdio: ["ignore", "pipe", "pipe"] }));
  });
  let running = true;
  const done = Promise.all(storm).then((results) => (running = false, results));
  let churned = 0;
  while (running) {
    const collected = collect(tmp.dir);
    if (!collected.errors.some((e) => e.reason === "inconsistent")) {
      assert.equal([...counterValues(collected, "jobs").values()].reduce((a, b) => a + b, 0), total);
      // Before a writer's first inc() is published, the family may be declared with no series yet: 0.
      const now = collected.families.some((f) => f.name === "churn")
        ? counterValues(collected, "churn").get("") ?? 0
        : 0;
      assert.ok(now >= churned, `churn_total went back from ${churned} to ${now}`);
      churned = now;
    }
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  for (const { code, stderr } of await done) assert.equal(code, 0, stderr);
  const after = collect(tmp.dir);
  assert.deepEqual(after.errors, []);
  assert.equal(jobs(tmp.dir), total);
  assert.deepEqual(counterValues(after, "churn"), new Map([["", 2 * 40]]));
  // Each start compacted what it could, but a start whose compaction met the other child's
  // is skipped, and how often that happens is the scheduler's business. What must hold: once
  // no writer is left, one compaction folds every file into the archive, and nothing changes.
  assert.deepEqual(compact(tmp.dir).skipped, false);
  assert.deepEqual(metricsFiles(tmp.dir), [metricsFiles(tmp.dir).find((name) => name.startsWith("archive."))]);
  assert.equal(jobs(tmp.dir), total);
  assert.deepEqual(counterValues(collect(tmp.dir), "churn"), new Map([["", 2 * 40]]));
});

test("collect() never reports a fractional counter or histogram sum going back across compaction", () => {
  using tmp = tempDir();
  const cpu = { name: "cpu_seconds_total", help: "CPU" };
  const lat = { name: "latency_seconds", help: "Latency", buckets: [1] };
  const totals = () => {
    const families = collect(tmp.dir, { meta: false }).families;
    const counter = families.find((f) => f.name === "cpu_seconds")!;
    const histogram = families.find((f) => f.name === "latency_seconds")!;
    assert.ok(counter.type === "counter" && histogram.type === "histogram");
    return { counter: counter.series[0].value, sum: histogram.series[0].sum };
  };
  // Archived first: 0.3. Then a live writer "aaa" (0.1) and a gone one "aab" (0.2), both named
  // before "archive": (0.1 + 0.2) + 0.3 before compaction, 0.1 + (0.3 + 0.2) after.
  const old = Metrics.create(tmp.dir, { name: "old" });
  old.counter(cpu).inc(0.3);
  old.histogram(lat).observe(0.3);
  old.close();
  compact(tmp.dir);
  using live = Metrics.create(tmp.dir, { name: "aaa" });
  live.counter(cpu).inc(0.1);
  live.histogram(lat).observe(0.1);
  const gone = Metrics.create(tmp.dir, { name: "aab" });
  gone.counter(cpu).inc(0.2);
  gone.histogram(lat).observe(0.2);
  gone.close();
  const before = totals();
  compact(tmp.dir);
  const after = totals();
  assert.ok(after.counter >= before.counter, `counter went back: ${before.counter} -> ${after.counter}`);
  assert.ok(after.sum >= before.sum, `histogram sum went back: ${before.sum} -> ${after.sum}`);
  // Still a real total: within rounding of the exact one.
  assert.ok(Math.abs(after.counter - 0.6) < 1e-12 && Math.abs(after.sum - 0.6) < 1e-12);
});

test("compact() and collect() never remove or hide a live writer's file that an archive claims to hold", () => {
  using tmp = tempDir();
  using live = Metrics.create(tmp.dir);
  live.counter({ name: "jobs_total", help: "Jobs" }).inc(5);
  const segment = live.paths[0];
  // A corrupt or hostile archive that names the live file as folded into it.
  writeMetricsFile(tmp.path("archive.7.metrics.mms"), {
    records: [{ subsumes: [segment.slice(tmp.dir.length + 1)] }],
    archive: 7,
  });
  assert.deepEqual(counterValues(collect(tmp.dir), "jobs"), new Map([["", 5]]));
  compact(tmp.dir);
  assert.ok(existsSync(segment), "a live writer's file was removed");
  assert.deepEqual(counterValues(collect(tmp.dir), "jobs"), new Map([["", 5]]));
});

test("collect() and compact() count a symlink, hard link or copy of a writer's segment once, and report it", () => {
  using tmp = tempDir();
  const writer = Metrics.create(tmp.dir, { name: "app" });
  writer.counter({ name: "jobs_total", help: "Jobs" }).inc(10);
  const [segment] = writer.paths;
  const [, pid, thread, id] = /^app\.(\d+)\.(\d+)\.([0-9a-f]{16})\.0\.metrics\.mms$/.exec(basename(segment))!;
  // Named like segments of the writer, so that compaction would fold them too.
  symlinkSync(segment, tmp.path(`app.${pid}.${thread}.${id}.1.metrics.mms`));
  linkSync(segment, tmp.path(`app.${pid}.${thread}.${id}.2.metrics.mms`));
  copyFileSync(segment, tmp.path(`copy.${pid}.${thread}.${id}.0.metrics.mms`));
  const reasons = (c: ReturnType<typeof collect>) => c.errors.map((e) => e.reason).sort();
  const before = collect(tmp.dir);
  assert.deepEqual(counterValues(before, "jobs"), new Map([["", 10]]));
  assert.deepEqual(reasons(before), ["ELOOP", "duplicate", "duplicate"]);
  writer.close();
  compact(tmp.dir);
  const after = collect(tmp.dir);
  assert.deepEqual(counterValues(after, "jobs"), new Map([["", 10]]));
  compact(tmp.dir); // a second pass finds nothing more to fold
  assert.deepEqual(counterValues(collect(tmp.dir), "jobs"), new Map([["", 10]]));
});

test("collect() takes a conflicting declaration from the earliest created one, before and after compaction", () => {
  using tmp = tempDir();
  const jobs = () => {
    const f = collect(tmp.dir, { meta: false }).families.find((f) => f.name === "jobs")!;
    assert.ok(f.type === "counter");
    return { help: f.help, value: f.series[0].value };
  };
  const early = Metrics.create(tmp.dir, { name: "bb" }); // named after the later one and the archive
  early.counter({ name: "jobs_total", help: "old help" }).inc(100);
  const declared = Date.now();
  while (Date.now() === declared) { /* the later declaration gets a later millisecond */ }
  using later = Metrics.create(tmp.dir, { name: "aa" });
  later.counter({ name: "jobs_total", help: "new help" }).inc(1);
  assert.deepEqual(jobs(), { help: "old help", value: 100 });
  early.close();
  assert.equal(compact(tmp.dir).compacted, 1);
  assert.deepEqual(jobs(), { help: "old help", value: 100 });
});
