import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { collect, Metrics, toMunin } from "../mod.ts";
import type { MetricFamily } from "../mod.ts";
import { finish, lines, root, runtime, start, tempDir } from "./_helpers.ts";
import type { Runtime } from "../ffi/libc.ts";

const MUNIN_RUN = ["/usr/sbin/munin-run", "/usr/bin/munin-run"].find((path) => existsSync(path));
const skip = MUNIN_RUN === undefined
  ? "munin-run not found: the munin interop tests need Debian's munin-node (apt-get install munin-node)"
  : false;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const FIELD_ATTRIBUTES = new Set(["label", "info", "type", "min", "max", "cdef", "draw", "value", "warning"]);

interface Graph {
  /** The `multigraph` name, or `undefined` for a plugin's single graph. */
  name: string | undefined;
  attributes: Map<string, string>;
  fields: Map<string, Map<string, string>>;
}

/**
 * Parses a plugin's output by munin's rules, failing on anything munin would refuse or
 * misread: names outside `[A-Za-z_][A-Za-z0-9_]*` or `root`, a field without a label or
 * type in config, a DERIVE value that is not an integer (rrdtool refuses those), a value
 * with an exponent, `multigraph` when it was not asked for.
 */
function parseMunin(output: string, options: { config: boolean; multigraph: boolean }): Graph[] {
  assert.ok(output.endsWith("\n"), "output ends with a newline");
  const graphs: Graph[] = [];
  let graph: Graph | undefined;
  for (const line of output.slice(0, -1).split("\n")) {
    const multigraph = /^multigraph (\S+)$/.exec(line);
    if (multigraph !== null) {
      assert.ok(options.multigraph, `multigraph line without MUNIN_CAP_MULTIGRAPH: ${line}`);
      assert.match(multigraph[1], NAME);
      assert.ok(!graphs.some((g) => g.name === multigraph[1]), `graph ${multigraph[1]} twice`);
      graphs.push(graph = { name: multigraph[1], attributes: new Map(), fields: new Map() });
      continue;
    }
    if (graph === undefined) {
      assert.ok(!options.multigraph, `a line before the first multigraph line: ${line}`);
      graphs.push(graph = { name: undefined, attributes: new Map(), fields: new Map() });
    }
    const attribute = /^(graph_[a-z_]+) (.+)$/.exec(line);
    if (attribute !== null) {
      assert.ok(options.config, `graph attribute outside config: ${line}`);
      graph.attributes.set(attribute[1], attribute[2]);
      continue;
    }
    const field = /^([^.\s]+)\.([a-z_]+) (.+)$/.exec(line);
    assert.ok(field !== null, `not a munin line: ${JSON.stringify(line)}`);
    const [, name, key, value] = field;
    assert.match(name, NAME);
    assert.notEqual(name, "root");
    assert.ok(FIELD_ATTRIBUTES.has(key), `unknown field attribute: ${line}`);
    if (!graph.fields.has(name)) graph.fields.set(name, new Map());
    assert.ok(!graph.fields.get(name)!.has(key), `${name}.${key} twice`);
    graph.fields.get(name)!.set(key, value);
  }
  for (const g of graphs) {
    for (const [name, field] of g.fields) {
      if (options.config) {
        assert.ok(field.has("label"), `${name} has no label`);
        assert.match(field.get("type") ?? "", /^(GAUGE|DERIVE)$/, `${name}.type`);
        if (field.get("type") === "DERIVE") assert.equal(field.get("min"), "0", `${name}.min`);
      }
      const value = field.get("value");
      if (value !== undefined && value !== "U") {
        assert.match(value, field.get("type") === "DERIVE" ? /^-?\d+$/ : /^-?\d+(\.\d+)?$/, `${name}.value ${value}`);
      }
    }
  }
  return graphs;
}

/** The graph named `name` (or the single graph), with every field's values by field name. */
function graphOf(graphs: Graph[], name?: string): Graph {
  const graph = graphs.find((g) => g.name === name);
  assert.ok(graph !== undefined, `no graph ${name} in ${graphs.map((g) => g.name).join(", ")}`);
  return graph;
}

function valuesOf(graph: Graph): Record<string, string> {
  return Object.fromEntries([...graph.fields].map(([name, field]) => [name, field.get("value")!]));
}

/**
 * What munin's plugin directory links to: npm's `mmstruct` command (`dist/cli.js`) on
 * Node, which knows it is a plugin by the link's name; on Deno and Bun the two-line shell
 * wrapper the README shows, here for the checkout's `cli.ts`.
 */
function pluginTarget(dir: string): string {
  if (runtime === "node") return join(root, "dist", "cli.js");
  const bin = (name: string) => join(root, "node_modules", ".bin", name);
  const command = runtime === "deno"
    ? `'${bin("deno")}' run --allow-ffi --allow-read --allow-env --quiet '${join(root, "cli.ts")}'`
    : `'${bin("bun")}' '${join(root, "cli.ts")}'`;
  const wrapper = join(dir, `mmstruct-munin-${runtime}`);
  writeFileSync(wrapper, `#!/bin/sh\nexec ${command} munin --plugin "$(basename "$0")" "$@"\n`, { mode: 0o755 });
  return wrapper;
}

/** A munin plugin directory with `plugin` linked in, and a plugin-conf.d file with `env` lines. */
function installPlugin(dir: string, plugin: string, env: Record<string, string>): (arg?: string) => string {
  const servicedir = join(dir, "plugins");
  mkdirSync(servicedir, { recursive: true });
  symlinkSync(pluginTarget(dir), join(servicedir, plugin));
  const conf = join(dir, `${plugin}.conf`);
  const lines = [
    `[${plugin}]`,
    `user ${userInfo().uid}`, /* a uid: Bun's userInfo() has no user name */
    ...Object.entries(env).map(([k, v]) => `env.${k} ${v}`),
  ];
  writeFileSync(conf, `${lines.join("\n")}\n`);
  return (arg?: string) => {
    // Outside munin-node's systemd unit (whose PrivateTmp would hide the test's /tmp files).
    const args = ["--ignore-systemd-properties", "--servicedir", servicedir, "--sconffile", conf, plugin];
    const result = spawnSync(MUNIN_RUN!, arg === undefined ? args : [...args, arg], {
      encoding: "utf8",
      timeout: 120_000,
    });
    assert.equal(result.status, 0, `munin-run ${plugin} ${arg ?? ""}: ${result.stderr}`);
    return result.stdout;
  };
}

const RUNTIMES: readonly Runtime[] = ["deno", "node", "bun"];

describe("munin-run", { skip }, () => {
  test("munin-run runs the linked plugin: autoconf, multigraph config and fetch with the writers' exact totals", async () => {
    using tmp = tempDir();
    const metricsDir = tmp.path("metrics");
    const munin = installPlugin(tmp.dir, "mmstruct_jobs", { MMSTRUCT_METRICS_DIR: metricsDir });
    assert.match(
      munin("autoconf"),
      /^no \(Cannot read the metrics directory ".*metrics": No such file or directory\)\n$/,
    );

    const writers = RUNTIMES.map((on) => {
      const child = start(on, "fixtures/plugin_writer", [metricsDir, on]);
      return { on, child, output: lines(child), done: finish(child) };
    });
    try {
      for (const w of writers) assert.equal(await w.output.next(), "ready", w.on);
      const jobs = { deno: 3, node: 5, bun: 7 };
      for (const w of writers) {
        w.child.stdin!.write(`inc ${jobs[w.on]}\n`);
        assert.equal(await w.output.next(), "done");
      }
      assert.equal(munin("autoconf"), "yes\n");

      // munin-run sets MUNIN_CAP_MULTIGRAPH: a graph per family, named for the plugin's link.
      const config = parseMunin(munin("config"), { config: true, multigraph: true });
      assert.deepEqual(config.map((g) => g.name), [
        "mmstruct_jobs_job_seconds",
        "mmstruct_jobs_jobs",
        "mmstruct_jobs_mmstruct_scrape_errors",
        "mmstruct_jobs_mmstruct_writers",
        "mmstruct_jobs_writers",
      ]);
      const jobsGraph = graphOf(config, "mmstruct_jobs_jobs");
      assert.equal(jobsGraph.attributes.get("graph_info"), "Jobs done");
      assert.equal(jobsGraph.attributes.get("graph_vlabel"), "per ${graph_period}");
      assert.deepEqual(Object.fromEntries([...jobsGraph.fields].map(([name, f]) => [name, Object.fromEntries(f)])), {
        jobs_bun: { label: 'jobs_total{queue="bun"}', info: "Jobs done", type: "DERIVE", min: "0" },
        jobs_deno: { label: 'jobs_total{queue="deno"}', info: "Jobs done", type: "DERIVE", min: "0" },
        jobs_node: { label: 'jobs_total{queue="node"}', info: "Jobs done", type: "DERIVE", min: "0" },
      });
      const histogram = graphOf(config, "mmstruct_jobs_job_seconds").fields;
      assert.deepEqual([...histogram.keys()], ["job_seconds_count", "job_seconds_sum"]);
      assert.equal(histogram.get("job_seconds_sum")!.get("cdef"), "job_seconds_sum,1000000,/");
      assert.equal(graphOf(config, "mmstruct_jobs_writers").fields.get("writers")!.get("type"), "GAUGE");

      const total = jobs.deno + jobs.node + jobs.bun;
      const fetch = () => parseMunin(munin(), { config: false, multigraph: true });
      const expected = (counts: Record<Runtime, number>, sum: number) => ({
        jobs: { jobs_bun: `${counts.bun}`, jobs_deno: `${counts.deno}`, jobs_node: `${counts.node}` },
        // 0.25 s per job, sent in microseconds.
        seconds: { job_seconds_count: `${sum}`, job_seconds_sum: `${sum * 250_000}` },
      });
      let values = fetch();
      assert.deepEqual(valuesOf(graphOf(values, "mmstruct_jobs_jobs")), expected(jobs, total).jobs);
      assert.deepEqual(valuesOf(graphOf(values, "mmstruct_jobs_job_seconds")), expected(jobs, total).seconds);
      assert.deepEqual(valuesOf(graphOf(values, "mmstruct_jobs_writers")), { writers: "3" });
      assert.deepEqual(valuesOf(graphOf(values, "mmstruct_jobs_mmstruct_writers")), {
        mmstruct_writers_dead: "0",
        mmstruct_writers_live: "3",
      });

      // While the writers count, every fetch is valid and no total goes back.
      for (const w of writers) w.child.stdin!.write("spin\n");
      let previous = expected(jobs, total).jobs;
      for (let i = 0; i < 3; i++) {
        const now = valuesOf(graphOf(fetch(), "mmstruct_jobs_jobs"));
        for (const [field, value] of Object.entries(now)) {
          assert.ok(Number(value) >= Number(previous[field as keyof typeof previous]), `${field} went back`);
        }
        previous = now as typeof previous;
      }
      const counted = {} as Record<Runtime, number>;
      for (const w of writers) {
        w.child.stdin!.write("stop\n");
        counted[w.on] = Number(/^stopped (\d+)$/.exec(await w.output.next())![1]);
      }
      const sum = counted.deno + counted.node + counted.bun;
      values = fetch();
      assert.deepEqual(valuesOf(graphOf(values, "mmstruct_jobs_jobs")), expected(counted, sum).jobs);
      assert.deepEqual(valuesOf(graphOf(values, "mmstruct_jobs_job_seconds")), expected(counted, sum).seconds);

      // Writers that exited still count; their gauges are gone, and so is that graph.
      for (const w of writers) w.child.stdin!.write("exit\n");
      for (const w of writers) assert.equal((await w.done).code, 0, w.on);
      values = fetch();
      assert.deepEqual(valuesOf(graphOf(values, "mmstruct_jobs_jobs")), expected(counted, sum).jobs);
      assert.equal(values.find((g) => g.name === "mmstruct_jobs_writers"), undefined);
    } finally {
      for (const w of writers) w.child.kill();
    }
  });

  test("munin-run gets one graph without MUNIN_CAP_MULTIGRAPH, and the values in config with dirtyconfig", () => {
    using tmp = tempDir();
    const metricsDir = tmp.path("metrics");
    using metrics = Metrics.create(metricsDir);
    metrics.counter({ name: "requests_total", help: "Requests", labelNames: ["route"] }).inc({ route: "/a b" }, 4);
    metrics.gauge({ name: "temperature", help: "T" }).set(21.5);
    const munin = installPlugin(tmp.dir, "mmstruct_single", {
      MMSTRUCT_METRICS_DIR: metricsDir,
      MUNIN_CAP_MULTIGRAPH: "0",
    });
    const config = parseMunin(munin("config"), { config: true, multigraph: false });
    assert.equal(config.length, 1);
    const [graph] = config;
    assert.equal(graph.attributes.get("graph_title"), "mmstruct metrics");
    assert.deepEqual([...graph.fields.keys()], [
      "mmstruct_scrape_errors",
      "mmstruct_writers_dead",
      "mmstruct_writers_live",
      "requests__a_b",
      "temperature",
    ]);
    assert.equal(graph.fields.get("requests__a_b")!.get("label"), 'requests_total{route="/a b"}');
    assert.equal(graph.fields.get("requests__a_b")!.get("value"), undefined);
    const fetched = valuesOf(graphOf(parseMunin(munin(), { config: false, multigraph: false })));
    assert.deepEqual(fetched, {
      mmstruct_scrape_errors: "0",
      mmstruct_writers_dead: "0",
      mmstruct_writers_live: "1",
      requests__a_b: "4",
      temperature: "21.5",
    });

    const dirty = installPlugin(tmp.path("dirty"), "mmstruct_dirty", {
      MMSTRUCT_METRICS_DIR: metricsDir,
      MUNIN_CAP_MULTIGRAPH: "0",
      MUNIN_CAP_DIRTYCONFIG: "1",
    });
    const both = graphOf(parseMunin(dirty("config"), { config: true, multigraph: false }));
    assert.deepEqual(valuesOf(both), fetched);
    assert.equal(both.fields.get("temperature")!.get("type"), "GAUGE");
  });
});

describe("toMunin", () => {
  /** A counter family with these label values of one label `v`, each counted once. */
  function counter(values: readonly string[], name = "c"): MetricFamily {
    return {
      name,
      help: "",
      unit: "",
      type: "counter",
      series: values.map((v) => ({ labels: { v }, value: 1, created: undefined })),
    };
  }

  function fieldNames(families: readonly MetricFamily[]): string[] {
    return toMunin(families).trimEnd().split("\n").map((line) => line.split(".")[0]);
  }

  test("toMunin() names fields munin-safe and unique, a name depending on its own labels unless it clashes", () => {
    const root: MetricFamily = { name: "root", help: "", unit: "", type: "gauge", series: [{ labels: {}, value: 1 }] };
    const names = fieldNames([counter(["a-b", "a_b", "é", "9", "x".repeat(300)]), root]);
    for (const name of names) {
      assert.match(name, NAME);
      assert.ok(name.length <= 64, name);
      assert.notEqual(name, "root");
    }
    assert.equal(new Set(names).size, names.length, `unique: ${names.join(" ")}`);
    // "a-b" and "a_b" clash after cleaning: both get a hash; the others keep their plain names.
    assert.deepEqual(names.filter((n) => n.startsWith("c_a_b")).length, 2);
    assert.ok(names.includes("c_9") && names.includes("c__") && names.includes("__root"), names.join(" "));
    // Which name a clashing series gets does not depend on the order of the series.
    const byLabel = (values: string[]) =>
      Object.fromEntries(
        toMunin([counter(values)], { command: "config" }).split("\n").filter((l) => l.includes(".label "))
          .map((l) => [l.slice(l.indexOf(" ") + 1), l.slice(0, l.indexOf("."))]),
      );
    assert.deepEqual(byLabel(["a-b", "a_b"]), byLabel(["a_b", "a-b"]));
    // Another series appearing does not rename the ones that do not clash with it.
    const more = fieldNames([counter(["a-b", "a_b", "é", "9", "x".repeat(300), "new"]), root]);
    assert.deepEqual(more.filter((n) => n !== "c_new"), names);
  });

  test("toMunin() sends DERIVE values as integers (seconds in microseconds) and unknown values as U", () => {
    const families: MetricFamily[] = [
      {
        name: "busy_seconds",
        help: "",
        unit: "seconds",
        type: "counter",
        series: [{ labels: {}, value: 1.5e-3, created: 1 }],
      },
      { name: "events", help: "", unit: "", type: "counter", series: [{ labels: {}, value: 2.9, created: 1 }] },
      { name: "huge", help: "", unit: "", type: "counter", series: [{ labels: {}, value: 1e30, created: 1 }] },
      {
        name: "g",
        help: "",
        unit: "",
        type: "gauge",
        series: [{ labels: { k: "nan" }, value: NaN }, { labels: { k: "inf" }, value: Infinity }, {
          labels: { k: "small" },
          value: 1e-9,
        }],
      },
      {
        name: "size_bytes",
        help: "",
        unit: "bytes",
        type: "histogram",
        series: [{
          labels: {},
          buckets: [{ le: 10, count: 1 }, { le: Infinity, count: 2 }],
          count: 2,
          sum: 20.5,
          created: 1,
        }],
      },
      {
        name: "ratio",
        help: "",
        unit: "",
        type: "histogram",
        series: [{ labels: {}, buckets: [{ le: Infinity, count: 3 }], count: 3, sum: 0.75, created: 1 }],
      },
    ];
    assert.equal(
      toMunin(families),
      [
        "busy_seconds.value 1500",
        "events.value 3",
        "huge.value U",
        "g_nan.value U",
        "g_inf.value U",
        "g_small.value 0.000000001",
        "size_bytes_count.value 2",
        "size_bytes_sum.value 21",
        "ratio_count.value 3",
        "ratio_sum.value 750",
        "",
      ].join("\n"),
    );
    const config = toMunin(families, { command: "config" });
    assert.match(config, /^busy_seconds\.cdef busy_seconds,1000000,\/$/m);
    assert.match(config, /^ratio_sum\.cdef ratio_sum,1000,\/$/m);
    assert.doesNotMatch(config, /^(events|size_bytes_sum)\.cdef/m);
  });

  test("toMunin() writes help and label values with line breaks on one line each", () => {
    const family: MetricFamily = {
      name: "m",
      help: "two\nlines",
      unit: "",
      type: "gauge",
      series: [{ labels: { v: 'say "hi"\nthen\\go' }, value: 1 }],
    };
    const config = toMunin([family], { command: "config", multigraph: true, plugin: "my-app" });
    assert.deepEqual(config.trimEnd().split("\n"), [
      "multigraph my_app_m",
      "graph_title m",
      "graph_info two\\nlines",
      "graph_category mmstruct",
      "graph_vlabel value",
      "graph_args --base 1000",
      'm_say__hi__then_go.label m{v="say \\"hi\\"\\nthen\\\\go"}',
      "m_say__hi__then_go.info two\\nlines",
      "m_say__hi__then_go.type GAUGE",
    ]);
  });

  test("toMunin() refuses bad options", () => {
    assert.throws(() => toMunin([], { command: "suggest" as "config" }), TypeError);
    assert.throws(() => toMunin([], { multigraph: 1 as unknown as boolean }), TypeError);
    assert.throws(() => toMunin([], { plugin: "" }), TypeError);
    assert.throws(() => toMunin(null as unknown as MetricFamily[]), TypeError);
  });

  test("toMunin() over collect() keeps the same field names in config and fetch", () => {
    using tmp = tempDir();
    using metrics = Metrics.create(tmp.dir);
    metrics.counter({ name: "r_total", help: "R", labelNames: ["route"] }).inc({ route: "/x" });
    const { families } = collect(tmp.dir);
    const names = (text: string) => [...new Set(text.trimEnd().split("\n").map((l) => l.split(".")[0]))];
    assert.deepEqual(
      names(toMunin(families, { command: "config" })).filter((n) => !n.startsWith("graph_")),
      names(toMunin(families)),
    );
  });
});
