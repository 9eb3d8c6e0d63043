import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import process from "node:process";
import { test } from "node:test";
import { collect, compact, Metrics } from "../mod.ts";
import { expected } from "./fixtures/metrics_workload.ts";
import { counterValues, family, gaugeValues, histogramValues } from "./_metrics.ts";
import { finish, lines, run, runtime, start, tempDir } from "./_helpers.ts";

const RUNTIMES = ["deno", "node", "bun"] as const;

/** Checks that the workload's families hold exactly what `writers` writers doing `n` operations each add up to. */
function assertWorkload(collected: ReturnType<typeof collect>, n: number, writers: number): void {
  const want = expected(n, writers);
  assert.deepEqual(counterValues(collected, "requests"), want.requests);
  assert.deepEqual(histogramValues(collected, "latency_seconds"), want.latency);
}

/**
 * Starts `fixtures/metrics_child` on `on`, reading its output from the start (a line
 * printed before anyone listens would be lost), and its end.
 */
function child(on: (typeof RUNTIMES)[number], args: string[]) {
  const process = start(on, "fixtures/metrics_child", args);
  const output = lines(process);
  const result = finish(process);
  return {
    process,
    output,
    result,
    ready: async () => assert.equal(await output.next(), "ready"),
  };
}

function metricsFiles(dir: string): string[] {
  return readdirSync(dir).filter((name) => !name.startsWith("."));
}

test("Metrics writers on Deno, Node and Bun at once, some killed with SIGKILL mid-run: the merged totals are exact", async () => {
  using tmp = tempDir();
  const n = 3000;
  // Two writers per runtime. Each does the workload's n operations, says "ready", then keeps
  // counting spin_total until told to stop or killed: the kills land while it writes.
  const children = RUNTIMES.flatMap((on) => [0, 1].map((i) => child(on, ["count", tmp.dir, `${on}-${i}`, String(n)])));
  try {
    for (const c of children) await c.ready();
    const live = collect(tmp.dir);
    assertWorkload(live, n, children.length);
    assert.deepEqual(live.writers, { live: 6, dead: 0, archives: 0 });
    assert.deepEqual(live.errors, []);

    const killed = children.filter((_, i) => i % 2 === 0); // one per runtime
    for (const c of killed) c.process.kill("SIGKILL");
    for (const c of killed) assert.equal((await c.result).signal, "SIGKILL");
    const partly = collect(tmp.dir);
    assertWorkload(partly, n, children.length);
    assert.deepEqual(partly.writers, { live: 3, dead: 3, archives: 0 });

    for (const c of children.filter((_, i) => i % 2 === 1)) c.process.stdin!.end();
    for (const c of children.filter((_, i) => i % 2 === 1)) {
      const { code, stderr } = await c.result;
      assert.equal(code, 0, stderr);
    }
  } finally {
    for (const c of children) c.process.kill("SIGKILL");
  }
  // Every writer is gone: its counts stay, final.
  const gone = collect(tmp.dir);
  assertWorkload(gone, n, children.length);
  assert.deepEqual(gone.writers, { live: 0, dead: 6, archives: 0 });
  const spins = counterValues(gone, "spin").get("")!;
  assert.ok(spins >= 6 * 1000 && Number.isInteger(spins), String(spins));
  assert.equal(counterValues(collect(tmp.dir), "spin").get(""), spins);

  // Compaction folds the six files into one archive: nothing counted twice or lost.
  assert.deepEqual(compact(tmp.dir), { compacted: 6, removed: 6, skipped: false });
  assert.deepEqual(metricsFiles(tmp.dir), ["archive.1.metrics.mms"]);
  const archived = collect(tmp.dir);
  assertWorkload(archived, n, children.length);
  assert.equal(counterValues(archived, "spin").get(""), spins);
  assert.deepEqual(archived.writers, { live: 0, dead: 0, archives: 1 });
});

test("Metrics counter survives its writer's restarts, however the writer ended", async () => {
  using tmp = tempDir();
  // Operations 0-99 by a Deno writer that exits without closing, 100-249 by a Node writer that
  // closes, then a Bun writer doing 0-249 that is killed: twice operations 0-249 in all.
  const first = run("deno", "fixtures/metrics_child", ["count-and-exit", tmp.dir, "app", "0", "100"]);
  assert.equal(first.status, 0, first.stderr);
  assertWorkload(collect(tmp.dir), 100, 1);
  const second = run("node", "fixtures/metrics_child", ["count-and-exit", tmp.dir, "app", "100", "250", "close"]);
  assert.equal(second.status, 0, second.stderr);
  const third = child("bun", ["count", tmp.dir, "app", "250"]);
  try {
    await third.ready();
  } finally {
    third.process.kill("SIGKILL");
  }
  assert.equal((await third.result).signal, "SIGKILL");
  const collected = collect(tmp.dir);
  assertWorkload(collected, 250, 2);
  // Each new writer compacted the files of those before it.
  assert.deepEqual(collected.writers, { live: 0, dead: 1, archives: 1 });
});

test("Gauges merge by aggregate over the running writers; a killed writer's gauges are dropped", async () => {
  using tmp = tempDir();
  const children = RUNTIMES.map((on) => child(on, ["gauges", tmp.dir]));
  try {
    for (const c of children) await c.ready();
    // Set one writer after the other, each at a later millisecond than the one before, so
    // that "last" has one answer.
    const values = [5, -3, 2];
    for (const [i, value] of values.entries()) {
      const before = Date.now();
      while (Date.now() <= before) await new Promise((resolve) => setTimeout(resolve, 1));
      children[i].process.stdin!.write(`set ${value}\n`);
      assert.equal(await children[i].output.next(), "ok");
    }
    const pids = children.map((c) => String(c.process.pid));
    const check = (alive: number[]) => {
      const collected = collect(tmp.dir);
      const live = alive.map((i) => values[i]);
      assert.deepEqual(gaugeValues(collected, "g_sum"), new Map([["a", live.reduce((a, b) => a + b, 0)]]));
      assert.deepEqual(gaugeValues(collected, "g_max"), new Map([["a", Math.max(...live)]]));
      assert.deepEqual(gaugeValues(collected, "g_min"), new Map([["a", Math.min(...live)]]));
      assert.deepEqual(gaugeValues(collected, "g_last"), new Map([["a", values[alive.at(-1)!]]]));
      const each = family(collected, "g_each");
      assert.deepEqual(
        new Set(each.series.map((s) => JSON.stringify(s))),
        new Set(alive.map((i) => JSON.stringify({ labels: { kind: "a", pid: pids[i] }, value: values[i] }))),
      );
    };
    check([0, 1, 2]);
    children[2].process.kill("SIGKILL");
    assert.equal((await children[2].result).signal, "SIGKILL");
    check([0, 1]);
    children[0].process.stdin!.end();
    assert.equal((await children[0].result).code, 0);
    check([1]);
    children[1].process.stdin!.end();
    assert.equal((await children[1].result).code, 0);
    const none = collect(tmp.dir, { meta: false });
    assert.deepEqual(none.families, []);
    assert.deepEqual(none.writers, { live: 0, dead: 3, archives: 0 });
  } finally {
    for (const c of children) c.process.kill("SIGKILL");
  }
});

/** Starts a worker thread on this runtime and returns a way to talk to it. */
async function startWorker(): Promise<{ ask(message: unknown): Promise<unknown>; stop(): Promise<void> }> {
  const compiled = import.meta.url.endsWith(".js");
  const url = new URL(`./fixtures/metrics_worker.${compiled ? "js" : "ts"}`, import.meta.url);
  let replies: ((message: unknown) => void)[] = [];
  const receive = (message: unknown) => {
    const [next, ...rest] = replies;
    replies = rest;
    next?.(message);
  };
  // The worker says "ready" once loaded; messages go to it only then.
  const loaded = new Promise((resolve) => replies.push(resolve));
  let handle: { ask(message: unknown): Promise<unknown>; stop(): Promise<void> };
  if (runtime === "node") {
    const { Worker } = await import("node:worker_threads");
    const worker = new Worker(url);
    worker.on("message", receive);
    handle = {
      ask: (message) => new Promise((resolve) => (replies.push(resolve), worker.postMessage(message))),
      stop: async () => void await worker.terminate(),
    };
  } else {
    // The Web Worker of Deno and Bun (typed here: the Node build has no DOM types).
    const WebWorker = (globalThis as unknown as {
      Worker: new (url: URL, options: { type: "module" }) => {
        onmessage: ((event: { data: unknown }) => void) | null;
        postMessage(message: unknown): void;
        terminate(): void;
      };
    }).Worker;
    const worker = new WebWorker(url, { type: "module" });
    worker.onmessage = (event) => receive(event.data);
    handle = {
      ask: (message) => new Promise((resolve) => (replies.push(resolve), worker.postMessage(message))),
      stop: () => Promise.resolve(worker.terminate()),
    };
  }
  assert.equal(await loaded, "ready");
  return handle;
}

test("Metrics in worker threads: each thread has its own file, and a closed thread's gauges are dropped", async () => {
  using tmp = tempDir();
  using main = Metrics.create(tmp.dir, { name: "main" });
  main.gauge({ name: "thread_up", help: "Threads up", aggregate: "each" }).set(1);
  const workers = await Promise.all([0, 1, 2].map(() => startWorker()));
  try {
    const n = 1000;
    const replies = await Promise.all(workers.map((w) => w.ask({ dir: tmp.dir, n }))) as { paths: string[] }[];
    const paths = replies.flatMap((r) => r.paths);
    assert.equal(new Set(paths).size, 3);
    const threads = paths.map((path) => path.split(".").at(-5)!);
    assert.equal(new Set(threads).size, 3);
    assert.ok(threads.every((t) => t !== "0"), threads.join());
    const collected = collect(tmp.dir);
    assert.deepEqual(counterValues(collected, "thread_ops"), new Map([["", 3 * n]]));
    const up = gaugeValues(collected, "thread_up");
    assert.deepEqual(
      new Set(up.keys()),
      new Set([String(process.pid), ...threads.map((t) => `${process.pid}:${t}`)]),
    );
    assert.deepEqual(collected.writers, { live: 4, dead: 0, archives: 0 });
    for (const worker of workers) assert.equal(await worker.ask("close"), "closed");
    const after = collect(tmp.dir);
    assert.deepEqual(counterValues(after, "thread_ops"), new Map([["", 3 * n]]));
    assert.deepEqual(gaugeValues(after, "thread_up"), new Map([[String(process.pid), 1]]));
    assert.deepEqual(after.writers, { live: 1, dead: 3, archives: 0 });
  } finally {
    for (const worker of workers) await worker.stop();
  }
});
