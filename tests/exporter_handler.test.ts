import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { gunzipSync } from "node:zlib";
import {
  collect,
  Metrics,
  metricsHandler,
  MmapError,
  OPENMETRICS_CONTENT_TYPE,
  PROMETHEUS_CONTENT_TYPE,
  toMetricsJson,
  toOpenMetrics,
  toPrometheus,
} from "../mod.ts";
import { run, runtime, tempDir } from "./_helpers.ts";
import { writeMetricsFile } from "./_metrics.ts";

/** What Prometheus 2.42 sends (captured from Debian's prometheus 2.42.0 scraping a test server). */
const PROMETHEUS_ACCEPT =
  "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75," +
  "text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
/** The same with `--enable-feature=native-histograms`: protobuf first, which mmstruct does not speak. */
const PROMETHEUS_NATIVE_ACCEPT =
  "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited," +
  "application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;q=0.75," +
  "text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/** A directory with one live writer: a labelled counter, a histogram and a gauge. */
function populated(): { dir: string; metrics: Metrics } & Disposable {
  const tmp = tempDir();
  const metrics = Metrics.create(tmp.dir);
  const jobs = metrics.counter({ name: "jobs_total", help: 'Jobs "done"\nso far', labelNames: ["kind"] });
  jobs.inc({ kind: "read" }, 3);
  jobs.inc({ kind: "wr\\ite" }, 4);
  metrics.histogram({ name: "latency_seconds", help: "Latency", buckets: [0.5, 1] }).observe(0.75);
  metrics.gauge({ name: "queue_depth", help: "Queue" }).set(12);
  return {
    dir: tmp.dir,
    metrics,
    [Symbol.dispose]() {
      metrics.close();
      tmp[Symbol.dispose]();
    },
  };
}

function get(path: string, headers: Record<string, string> = {}, method = "GET"): Request {
  return new Request(`http://127.0.0.1:9464${path}`, { method, headers });
}

test("metricsHandler() serves the Prometheus text format 0.0.4 to a client that asks for nothing", async () => {
  using d = populated();
  const response = await metricsHandler(d.dir)(get("/metrics"));
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const body = await response.text();
  assert.equal(body, toPrometheus(collect(d.dir).families));
  assert.match(body, /^jobs_total\{kind="read"\} 3$/m);
  assert.match(body, /^# HELP jobs_total Jobs "done"\\nso far$/m);
  assert.equal(response.headers.get("content-length"), String(new TextEncoder().encode(body).length));
});

test("metricsHandler() negotiates the format from the Accept header's media ranges and q-values", async () => {
  using d = populated();
  const handler = metricsHandler(d.dir);
  const cases: [accept: string | undefined, format: "openmetrics" | "text"][] = [
    [PROMETHEUS_ACCEPT, "openmetrics"],
    [PROMETHEUS_NATIVE_ACCEPT, "openmetrics"],
    [undefined, "text"],
    ["", "text"],
    ["*/*", "text"],
    ["text/plain", "text"],
    ["text/plain;version=0.0.4", "text"],
    ["text/*", "text"],
    ["application/openmetrics-text", "openmetrics"],
    ["application/openmetrics-text; version=1.0.0; charset=utf-8", "openmetrics"],
    ["Application/OpenMetrics-Text; Version=1.0.0", "openmetrics"],
    ['application/openmetrics-text;version="1.0.0"', "openmetrics"],
    // Only version 1.0.0 of OpenMetrics is printed; another version is not what was asked for.
    ["application/openmetrics-text;version=0.0.1,text/plain;version=0.0.4;q=0.5", "text"],
    ["application/openmetrics-text;version=2.0.0", "text"],
    ["application/openmetrics-text;version=1.0.0;q=0.4,text/plain;q=0.9", "text"],
    ["text/plain;q=0.2, application/openmetrics-text;q=0.3", "openmetrics"],
    ["application/openmetrics-text;q=0, */*", "text"],
    ["*/*;q=0.5, application/openmetrics-text", "openmetrics"],
    ["*/*, application/openmetrics-text;q=0.5", "text"],
    ["application/*", "openmetrics"],
    // Equal weights: the more specific range, then the one first in the header.
    ["text/plain;q=0.5, application/openmetrics-text;version=1.0.0;q=0.5", "openmetrics"],
    ["text/plain;q=0.5, application/openmetrics-text;q=0.5", "text"],
    ["application/openmetrics-text;q=0.5, text/plain;q=0.5", "openmetrics"],
    // Nothing acceptable, or nothing readable: the default format rather than a 406.
    ["application/json", "text"],
    ["text/plain;q=0", "text"],
    ["application/openmetrics-text;q=0", "text"],
    ["application/openmetrics-text;q=2", "text"],
    ["application/openmetrics-text;q=abc, text/plain;q=0.1", "text"],
    [";;, ,garbage/, /x, */plain, \u00e9/\u00e9", "text"],
    ["application/openmetrics-text" + ", x/y".repeat(10_000), "openmetrics"],
  ];
  const expected = {
    text: { type: PROMETHEUS_CONTENT_TYPE, body: toPrometheus(collect(d.dir).families) },
    openmetrics: { type: OPENMETRICS_CONTENT_TYPE, body: toOpenMetrics(collect(d.dir).families) },
  };
  for (const [accept, format] of cases) {
    const response = await handler(get("/metrics", accept === undefined ? {} : { accept }));
    assert.equal(response.status, 200, String(accept));
    assert.equal(response.headers.get("content-type"), expected[format].type, `Accept: ${accept}`);
    assert.equal(await response.text(), expected[format].body, `Accept: ${accept}`);
    assert.equal(response.headers.get("vary"), "Accept, Accept-Encoding");
  }
});

test("metricsHandler() with openMetrics: false sends the text format even to Prometheus", async () => {
  using d = populated();
  const handler = metricsHandler(d.dir, { openMetrics: false });
  for (const accept of [PROMETHEUS_ACCEPT, "application/openmetrics-text"]) {
    const response = await handler(get("/metrics", { accept }));
    assert.equal(response.headers.get("content-type"), PROMETHEUS_CONTENT_TYPE);
    assert.equal(await response.text(), toPrometheus(collect(d.dir).families));
    assert.equal(response.headers.get("vary"), "Accept-Encoding");
  }
});

test("metricsHandler() gzips the body when Accept-Encoding takes gzip", async () => {
  using d = populated();
  const handler = metricsHandler(d.dir);
  const plain = await (await handler(get("/metrics", { accept: PROMETHEUS_ACCEPT }))).text();
  const cases: [acceptEncoding: string | undefined, gzip: boolean][] = [
    ["gzip", true], // what Prometheus sends
    ["GZIP", true],
    ["x-gzip", true],
    ["gzip, deflate, br", true],
    ["br;q=1.0, gzip;q=0.5", true],
    ["*", true],
    [undefined, false],
    ["identity", false],
    ["deflate, br", false],
    ["gzip;q=0", false],
    ["gzip;q=0, *", false],
    ["*;q=0", false],
    ["deflate, *;q=0", false],
  ];
  for (const [acceptEncoding, gzip] of cases) {
    const headers: Record<string, string> = { accept: PROMETHEUS_ACCEPT };
    if (acceptEncoding !== undefined) headers["accept-encoding"] = acceptEncoding;
    const response = await handler(get("/metrics", headers));
    const bytes = new Uint8Array(await response.arrayBuffer());
    assert.equal(response.headers.get("content-encoding"), gzip ? "gzip" : null, `Accept-Encoding: ${acceptEncoding}`);
    assert.equal(response.headers.get("content-length"), String(bytes.length));
    assert.equal(new TextDecoder().decode(gzip ? gunzipSync(bytes) : bytes), plain);
  }
  const json = await handler(get("/metrics.json", { "accept-encoding": "gzip" }));
  assert.equal(json.headers.get("content-encoding"), "gzip");
  assert.deepEqual(JSON.parse(gunzipSync(new Uint8Array(await json.arrayBuffer())).toString()), {
    ...JSON.parse(toMetricsJson(collect(d.dir))),
  });
  const off = await metricsHandler(d.dir, { gzip: false })(get("/metrics", { "accept-encoding": "gzip" }));
  assert.equal(off.headers.get("content-encoding"), null);
  assert.equal(await off.text(), toPrometheus(collect(d.dir).families));
  assert.equal(off.headers.get("vary"), "Accept");
});

test("metricsHandler() answers HEAD with the headers of the GET and no body", async () => {
  using d = populated();
  const handler = metricsHandler(d.dir);
  for (const path of ["/metrics", "/metrics.json"]) {
    const variants: Record<string, string>[] = [{}, { accept: PROMETHEUS_ACCEPT, "accept-encoding": "gzip" }];
    for (const headers of variants) {
      const got = await handler(get(path, headers));
      const head = await handler(get(path, headers, "HEAD"));
      assert.equal(head.status, 200);
      assert.deepEqual([...head.headers], [...got.headers], path);
      assert.equal(head.body, null);
      assert.equal(head.headers.get("content-length"), String((await got.arrayBuffer()).byteLength));
    }
  }
});

test("metricsHandler() answers other paths with 404 and other methods with 405 and Allow", async () => {
  using d = populated();
  const handler = metricsHandler(d.dir);
  for (const path of ["/", "/metrics/", "/metric", "/metrics.txt", "/healthz", "/METRICS", "/x/metrics"]) {
    const response = await handler(get(path));
    assert.equal(response.status, 404, path);
    assert.match(await response.text(), /^Not found: ".*"; this server has \/metrics, \/metrics\.json\n$/);
  }
  for (const method of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
    for (const path of ["/metrics", "/metrics.json"]) {
      const response = await handler(get(path, {}, method));
      assert.equal(response.status, 405, `${method} ${path}`);
      assert.equal(response.headers.get("allow"), "GET, HEAD");
      assert.match(await response.text(), new RegExp(`^Method not allowed: "${method}"`));
    }
  }
  const head = await handler(get("/nope", {}, "HEAD"));
  assert.equal(head.status, 404);
  assert.equal(head.body, null);
  // The query string does not change the route.
  assert.equal((await handler(get("/metrics?format=json&x=1"))).status, 200);
});

test("metricsHandler() serves /metrics.json as toMetricsJson() prints it, with NaN and infinities as strings", async () => {
  using d = populated();
  // Writers refuse non-finite values; a file written by another program may hold them.
  writeMetricsFile(join(d.dir, "odd.metrics.mms"), {
    records: [
      { metric: 0, name: "odd_total", type: "counter", help: "Odd values", unit: "", labelNames: ["v"] },
      { series: 0, labels: ["nan"], slot: 0 },
      { series: 0, labels: ["inf"], slot: 1 },
      { series: 0, labels: ["-inf"], slot: 2 },
    ],
    slots: [NaN, Infinity, -Infinity],
  });
  const response = await metricsHandler(d.dir)(get("/metrics.json"));
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "application/json; charset=utf-8");
  const body = await response.text();
  assert.equal(body, `${toMetricsJson(collect(d.dir))}\n`);
  const json = JSON.parse(body);
  const values = json.families.find((f: { name: string }) => f.name === "odd").series
    .map((s: { labels: { v: string }; value: unknown }) => [s.labels.v, s.value]);
  assert.deepEqual(Object.fromEntries(values), { nan: "NaN", inf: "+Inf", "-inf": "-Inf" });
  const latency = json.families.find((f: { name: string }) => f.name === "latency_seconds").series[0];
  assert.deepEqual(latency.buckets, [{ le: 0.5, count: 0 }, { le: 1, count: 1 }, { le: "+Inf", count: 1 }]);
  assert.equal(latency.count, 1);
  assert.equal(latency.sum, 0.75);
  assert.equal(typeof latency.created, "number");
  assert.deepEqual(json.writers, { live: 1, dead: 1, archives: 0 }); // the hand-made file has no writer
});

test("mmstruct metrics --format json prints what /metrics.json serves", async () => {
  using d = populated();
  writeMetricsFile(join(d.dir, "odd.metrics.mms"), {
    records: [
      { metric: 0, name: "odd_total", type: "counter", help: "", unit: "", labelNames: [] },
      { series: 0, labels: [], slot: 0 },
    ],
    slots: [Infinity],
  });
  const served = await (await metricsHandler(d.dir)(get("/metrics.json"))).text();
  const printed = run(runtime, "../cli", ["metrics", d.dir, "--format", "json"]);
  assert.equal(printed.status, 0, printed.stderr);
  assert.equal(printed.stdout, served);
});

test("metricsHandler() answers 503 with the reason while the directory cannot be read, and reports it", async () => {
  using tmp = tempDir();
  const dir = tmp.path("not-yet");
  const seen: unknown[] = [];
  const handler = metricsHandler(dir, { onError: (error) => seen.push(error) });
  for (const path of ["/metrics", "/metrics.json"]) {
    const response = await handler(get(path));
    assert.equal(response.status, 503);
    assert.match(await response.text(), /^Cannot scrape the metrics directory: .*not-yet.*No such file or directory/);
  }
  assert.equal(seen.length, 2);
  assert.ok(seen.every((error) => error instanceof MmapError && error.code === "ENOENT"));
  // The first writer makes the directory: the same handler serves it from then on.
  using metrics = Metrics.create(dir);
  metrics.counter({ name: "late_total", help: "" }).inc();
  const response = await handler(get("/metrics"));
  assert.equal(response.status, 200);
  assert.match(await response.text(), /^late_total 1$/m);
  // A callback that throws changes nothing.
  rmSync(dir, { recursive: true });
  const quiet = metricsHandler(dir, {
    onError: () => {
      throw new Error("logger broken");
    },
  });
  assert.equal((await quiet(get("/metrics"))).status, 503);
});

test("metricsHandler() serves the path it is given, and the JSON beside it", async () => {
  using d = populated();
  const handler = metricsHandler(d.dir, { path: "/internal/metrics" });
  assert.equal((await handler(get("/internal/metrics"))).status, 200);
  assert.equal((await handler(get("/internal/metrics.json"))).status, 200);
  assert.equal((await handler(get("/metrics"))).status, 404);
  const without = await metricsHandler(d.dir, { meta: false })(get("/metrics"));
  assert.equal(await without.text(), toPrometheus(collect(d.dir, { meta: false }).families));
});

test("metricsHandler() refuses bad arguments with a TypeError naming them", () => {
  const bad: [unknown, unknown, RegExp][] = [
    [42, undefined, /dir must be a non-empty string, got 42/],
    ["", undefined, /dir must be a non-empty string, got ""/],
    ["/tmp", null, /options must be an object/],
    ["/tmp", { path: "metrics" }, /path must start with "\/".*got "metrics"/],
    ["/tmp", { path: "/metrics/" }, /got "\/metrics\/"/],
    ["/tmp", { path: "/metrics?x" }, /got "\/metrics\?x"/],
    ["/tmp", { path: 7 }, /got 7/],
    ["/tmp", { openMetrics: "yes" }, /openMetrics must be a boolean, got "yes"/],
    ["/tmp", { gzip: 1 }, /gzip must be a boolean, got 1/],
    ["/tmp", { meta: null }, /meta must be a boolean, got null/],
    ["/tmp", { onError: "log" }, /onError must be a function/],
  ];
  for (const [dir, options, message] of bad) {
    assert.throws(
      () => metricsHandler(dir as string, options as Record<string, never>),
      (error: unknown) => error instanceof TypeError && message.test(error.message),
      `${JSON.stringify(dir)}, ${JSON.stringify(options)}`,
    );
  }
});
