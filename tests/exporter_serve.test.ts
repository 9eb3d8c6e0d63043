import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { readdirSync } from "node:fs";
import { createServer } from "node:net";
import process from "node:process";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { collect, type Collected, OPENMETRICS_CONTENT_TYPE } from "../mod.ts";
import { finish, lines, run, runtime, start, tempDir } from "./_helpers.ts";
import { JOBS, totals } from "./_exporter_workload.ts";
import { counterValues } from "./_metrics.ts";

const PROMETHEUS_ACCEPT =
  "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75," +
  "text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/** A running `mmstruct serve` on this test's runtime, and the URL of its metrics from its start line. */
async function serve(args: string[]): Promise<{ child: ChildProcess; url: URL; startLine: string } & AsyncDisposable> {
  const child = start(runtime, "../cli", ["serve", ...args]);
  const done = finish(child);
  const startLine = await lines(child).next();
  const match = /^mmstruct serve: listening on (http:\/\/\S+\/metrics) /.exec(startLine);
  assert.ok(match, startLine);
  return {
    child,
    url: new URL(match[1]),
    startLine,
    async [Symbol.asyncDispose]() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await done;
    },
  };
}

/**
 * Sends `signal` to the child. Not with `child.kill()`: Deno's node:child_process then
 * reports the child as killed by that signal whatever its real exit status (Deno 2.9: a
 * child that handled SIGTERM and exited 0 shows as `signal` `"SIGTERM"`).
 */
function signal(child: ChildProcess, name: NodeJS.Signals): void {
  process.kill(child.pid!, name);
}

/** Whether something can listen on `port` of 127.0.0.1 (the server that had it let it go). */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** Runs the exporter writer fixture to completion on this test's runtime. */
function writeJobs(dir: string, label: string, count: number): void {
  const result = run(runtime, "fixtures/exporter_writer", [dir, label, String(count), "exit"]);
  assert.equal(result.status, 0, result.stderr);
}

for (const name of ["SIGTERM", "SIGINT"] as const) {
  test(`mmstruct serve serves a directory on the port it was given and stops on ${name} with status 0`, async () => {
    using tmp = tempDir();
    writeJobs(tmp.dir, "a", 10);
    await using server = await serve([tmp.dir, "--listen", "127.0.0.1:0"]);
    const exited = finish(server.child);
    assert.equal(server.url.hostname, "127.0.0.1");
    assert.notEqual(server.url.port, "0");
    assert.match(
      server.startLine,
      new RegExp(`for "${tmp.dir}" \\(OpenMetrics or Prometheus text; compacting every 60 s\\)$`),
    );

    const text = await fetch(server.url);
    assert.equal(text.status, 200);
    const expected = totals(10).jobs;
    const body = await text.text();
    for (const [kind, n] of expected) {
      assert.match(body, new RegExp(`^${JOBS.name}\\{runtime="a",kind="${kind}"\\} ${n}$`, "m"));
    }
    const open = await fetch(server.url, { headers: { accept: PROMETHEUS_ACCEPT } });
    assert.equal(open.headers.get("content-type"), OPENMETRICS_CONTENT_TYPE);
    assert.match(await open.text(), /\n# EOF\n$/);
    const json = await fetch(new URL("/metrics.json", server.url));
    assert.equal(json.status, 200);
    assert.deepEqual(
      counterValues(await json.json() as Collected, "exporter_jobs"),
      counterValues(collect(tmp.dir), "exporter_jobs"),
    );
    const health = await fetch(new URL("/healthz", server.url));
    assert.equal(health.status, 200);
    assert.equal(await health.text(), "ok\n");
    const missing = await fetch(new URL("/nope", server.url));
    assert.equal(missing.status, 404);
    assert.match(await missing.text(), /this server has \/metrics, \/metrics\.json, \/healthz/);
    const post = await fetch(server.url, { method: "POST", body: "x".repeat(100_000) });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET, HEAD");
    await post.body?.cancel();

    // The client keeps its connection open (keep-alive): shutting down must not wait for it.
    signal(server.child, name);
    const { code, signal: killedBy, stdout, stderr } = await exited;
    assert.equal(code, 0, stderr);
    assert.equal(killedBy, null);
    assert.equal(stdout, `mmstruct serve: stopped on ${name}\n`);
    assert.equal(stderr, "");
    assert.ok(await portFree(Number(server.url.port)), `port ${server.url.port} is still taken`);
  });
}

test("mmstruct serve logs a problem once while it lasts, and nothing per request", async () => {
  using tmp = tempDir();
  const dir = tmp.path("later");
  await using server = await serve([dir, "--listen", "127.0.0.1:0", "--compact-interval", "1"]);
  const exited = finish(server.child);
  for (let i = 0; i < 3; i++) {
    const response = await fetch(server.url);
    assert.equal(response.status, 503);
    assert.match(await response.text(), /No such file or directory/);
  }
  // The directory appears: scrapes work, and log nothing.
  writeJobs(dir, "b", 3);
  for (let i = 0; i < 3; i++) assert.equal((await fetch(server.url)).status, 200);
  signal(server.child, "SIGTERM");
  const { code, stdout, stderr } = await exited;
  assert.equal(code, 0, stderr);
  assert.equal(stdout, "mmstruct serve: stopped on SIGTERM\n");
  const logged = stderr.trim().split("\n");
  assert.equal(logged.length, 1, stderr);
  assert.match(logged[0], /^mmstruct: Cannot read the metrics directory ".*later": No such file or directory$/);
});

test("mmstruct serve compacts the files of writers that have exited, keeping the totals", async () => {
  using tmp = tempDir();
  await using server = await serve([tmp.dir, "--listen", "127.0.0.1:0", "--compact-interval", "1"]);
  // Written after the server started: only a periodic compaction can fold them.
  writeJobs(tmp.dir, "a", 20);
  writeJobs(tmp.dir, "b", 30);
  // Each writer compacts when it starts, so the second folded the first: its own file waits.
  const writerFiles = () => readdirSync(tmp.dir).filter((name) => name.startsWith("writer-"));
  assert.notDeepEqual(writerFiles(), []);
  const deadline = Date.now() + 60_000;
  while (writerFiles().length > 0 && Date.now() < deadline) await sleep(100);
  assert.deepEqual(writerFiles(), []);
  assert.ok(readdirSync(tmp.dir).some((name) => /^archive\.\d+\.metrics\.mms$/.test(name)));
  const body = await (await fetch(server.url)).text();
  for (const [label, count] of [["a", 20], ["b", 30]] as const) {
    for (const [kind, n] of totals(count).jobs) {
      assert.match(body, new RegExp(`^${JOBS.name}\\{runtime="${label}",kind="${kind}"\\} ${n}$`, "m"));
    }
  }
});

test("mmstruct serve refuses a bad --listen or --compact-interval with status 2", () => {
  using tmp = tempDir();
  const cases: [string[], RegExp][] = [
    [["--listen", "9464"], /--listen must be HOST:PORT, \[IPv6\]:PORT or :PORT .*got "9464"/],
    [["--listen", "127.0.0.1:65536"], /got "127\.0\.0\.1:65536"/],
    [["--listen", "127.0.0.1:http"], /got "127\.0\.0\.1:http"/],
    [["--listen", "::1:9464"], /got "::1:9464"/],
    [["--compact-interval=-1"], /--compact-interval must be a whole number of seconds .*got "-1"/],
    [["--compact-interval", "1.5"], /got "1\.5"/],
    [["--compact-interval", "99999999"], /got "99999999"/],
    [["--format", "json"], /--format is not for serve/],
  ];
  for (const [args, message] of cases) {
    const result = run(runtime, "../cli", ["serve", tmp.dir, ...args]);
    assert.equal(result.status, 2, `${args.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr.split("\n")[0], message);
  }
  const elsewhere = run(runtime, "../cli", ["metrics", tmp.dir, "--listen", "127.0.0.1:1"]);
  assert.equal(elsewhere.status, 2);
  assert.match(elsewhere.stderr, /^mmstruct: --listen is for serve/);
});

test("mmstruct serve exits with status 3 and one line when it cannot listen", async () => {
  using tmp = tempDir();
  await using server = await serve([tmp.dir, "--listen", "127.0.0.1:0"]);
  const port = server.url.port;
  const taken = run(runtime, "../cli", ["serve", tmp.dir, "--listen", `127.0.0.1:${port}`]);
  assert.equal(taken.status, 3, taken.stderr);
  assert.equal(taken.stdout, "");
  assert.equal(taken.stderr, `mmstruct: Cannot listen on 127.0.0.1:${port}: Address already in use\n`);
});

test("mmstruct serve listens on IPv6 loopback and prints the address in brackets", async (t) => {
  if (
    !(await new Promise<boolean>((resolve) => {
      const probe = createServer().once("error", () => resolve(false));
      probe.listen(0, "::1", () => probe.close(() => resolve(true)));
    }))
  ) {
    t.skip("no IPv6 loopback on this machine");
    return;
  }
  using tmp = tempDir();
  await using server = await serve([tmp.dir, "--listen", "[::1]:0", "--compact-interval", "0"]);
  assert.equal(server.url.hostname, "[::1]");
  assert.match(server.startLine, /\(OpenMetrics or Prometheus text; not compacting\)$/);
  assert.equal((await fetch(new URL("/healthz", server.url))).status, 200);
});
