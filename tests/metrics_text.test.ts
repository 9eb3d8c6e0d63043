/**
 * The text formats, against the specifications' own text (Prometheus "Exposition formats", text format 0.0.4, and
 * OpenMetrics 1.0, quoted where a test relies on a rule) and against the real tools: `promtool check metrics` and
 * prometheus_client's two parsers.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  type CounterFamily,
  type GaugeFamily,
  type HistogramFamily,
  type Labels,
  type MetricFamily,
  OPENMETRICS_CONTENT_TYPE,
  PROMETHEUS_CONTENT_TYPE,
  toOpenMetrics,
  toPrometheus,
} from "../mod.ts";
import { type Format, parse, type ParsedFamily, Parser, promtool, pythonFloat, skip } from "./_prometheus_tools.ts";

const counter = (name: string, series: CounterFamily["series"], extra: Partial<CounterFamily> = {}): CounterFamily => ({
  name,
  help: "Help.",
  unit: "",
  type: "counter",
  series,
  ...extra,
});
const gauge = (name: string, series: GaugeFamily["series"], extra: Partial<GaugeFamily> = {}): GaugeFamily => ({
  name,
  help: "Help.",
  unit: "",
  type: "gauge",
  series,
  ...extra,
});
/** A histogram series from per-bucket (non-cumulative) counts, as a writer keeps them. */
const observed = (labels: Labels, bounds: number[], counts: number[], sum: number, created?: number) => {
  let total = 0;
  const buckets = [...bounds, Infinity].map((le, i) => ({ le, count: total += counts[i] }));
  return { labels, buckets, count: total, sum, created };
};
const histogram = (
  name: string,
  series: HistogramFamily["series"],
  extra: Partial<HistogramFamily> = {},
): HistogramFamily => ({ name, help: "Help.", unit: "", type: "histogram", series, ...extra });

/** The lines of a text, without the final empty one. */
const linesOf = (text: string) => {
  assert.ok(text === "" || text.endsWith("\n"), `the text ends with a line feed: ${JSON.stringify(text.slice(-20))}`);
  return text === "" ? [] : text.slice(0, -1).split("\n");
};

// ---------------------------------------------------------------------------------------------------------------
// The specifications, rule by rule.

test("PROMETHEUS_CONTENT_TYPE and OPENMETRICS_CONTENT_TYPE are the types the specifications name", () => {
  // 0.0.4: "HTTP Content-Type: text/plain; version=0.0.4", "Encoding: UTF-8"; OpenMetrics: "The content type MUST be:
  // application/openmetrics-text; version=1.0.0; charset=utf-8".
  assert.equal(PROMETHEUS_CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
  assert.equal(OPENMETRICS_CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8");
});

test("toPrometheus() escapes backslash and line feed in help text, and nothing else", () => {
  // "HELP lines may contain any sequence of UTF-8 characters (after the metric name), but the backslash and the line
  // feed characters have to be escaped as \\ and \n, respectively."
  const help = 'C:\\dir\nsecond "line" é 日本 😀';
  const lines = linesOf(toPrometheus([gauge("g", [{ labels: {}, value: 1 }], { help })]));
  assert.equal(lines[0], '# HELP g C:\\\\dir\\nsecond "line" é 日本 😀');
  assert.deepEqual(lines.slice(1), ["# TYPE g gauge", "g 1"]);
});

test("toPrometheus() escapes backslash, double quote and line feed in label values", () => {
  // The specification's own example: msdos_file_access_time_seconds{path="C:\\DIR\\FILE.TXT",error="Cannot find
  // file:\n\"FILE.TXT\""} 1.458255915e9
  const text = toPrometheus([
    gauge("msdos_file_access_time_seconds", [{
      labels: { path: "C:\\DIR\\FILE.TXT", error: 'Cannot find file:\n"FILE.TXT"' },
      value: 1.458255915e9,
    }]),
  ]);
  assert.equal(
    linesOf(text)[2],
    String
      .raw`msdos_file_access_time_seconds{path="C:\\DIR\\FILE.TXT",error="Cannot find file:\n\"FILE.TXT\""} 1458255915`,
  );
  // Other characters, including non-ASCII, a carriage return and NUL, are UTF-8 text and pass unchanged.
  const other = linesOf(toPrometheus([gauge("g", [{ labels: { a: "é日😀\r\0\t{}=,#" }, value: 1 }])]))[2];
  assert.equal(other, 'g{a="é日😀\r\0\t{}=,#"} 1');
});

test("toOpenMetrics() escapes backslash, double quote and line feed in help text and label values", () => {
  // "escaped-string" is used for both; the specification's examples:
  // # HELP foo_seconds Some text and \n some \" escaping
  // bar_seconds_count{a="x",b="escaping\" example \n "} 0
  const text = toOpenMetrics([
    gauge("foo_seconds", [], { help: 'Some text and \n some " escaping' }),
    gauge("bar_seconds_count", [{ labels: { a: "x", b: 'escaping" example \n ' }, value: 0 }], { help: "" }),
    gauge("g", [{ labels: { a: "C:\\é日😀\0" }, value: 1 }], { help: "back\\slash" }),
  ]);
  assert.deepEqual(linesOf(text), [
    "# TYPE foo_seconds gauge",
    String.raw`# HELP foo_seconds Some text and \n some \" escaping`,
    "# TYPE bar_seconds_count gauge",
    String.raw`bar_seconds_count{a="x",b="escaping\" example \n "} 0`,
    "# TYPE g gauge",
    String.raw`# HELP g back\\slash`,
    // Not String.raw: Bun 1.4 turns non-ASCII characters in a template into \u escapes, which String.raw then keeps.
    'g{a="C:\\\\é日😀\0"} 1',
    "# EOF",
  ]);
});

test("toPrometheus() and toOpenMetrics() print NaN, +Inf, -Inf and negative zero", () => {
  // 0.0.4: "NaN, +Inf, and -Inf are valid values"; OpenMetrics: "The non-real values NaN, +Inf and -Inf MUST be
  // supported", and a float "MUST be represented either with a decimal point or using scientific notation" (-0.0).
  const series = [NaN, Infinity, -Infinity, -0, 0, 1e21, 5e-324, -1.5].map((value, i) => ({
    labels: { i: `${i}` },
    value,
  }));
  const values = ["NaN", "+Inf", "-Inf", "-0.0", "0", "1e+21", "5e-324", "-1.5"];
  const expected = values.map((v, i) => `g{i="${i}"} ${v}`);
  assert.deepEqual(linesOf(toPrometheus([gauge("g", series)])).slice(2), expected);
  assert.deepEqual(linesOf(toOpenMetrics([gauge("g", series)])).slice(2, -1), expected);
});

test("toPrometheus() prints a counter foo or foo_total as samples foo_total, without created times", () => {
  // A counter declared `foo_total` is the family `foo`; both print `foo_total` (never `foo_total_total`). 0.0.4 has
  // no created times: a `foo_created` sample would be a separate untyped series.
  for (const name of ["http_requests", "http_requests_total"]) {
    const text = toPrometheus([counter(name, [{ labels: { code: "200" }, value: 3, created: 1700000000 }])]);
    assert.deepEqual(linesOf(text), [
      "# HELP http_requests_total Help.",
      "# TYPE http_requests_total counter",
      'http_requests_total{code="200"} 3',
    ]);
  }
});

test("toOpenMetrics() prints a counter foo or foo_total as the family foo with samples foo_total and foo_created", () => {
  // "The MetricPoint's Total Value Sample MetricName MUST have the suffix _total. If present the MetricPoint's
  // Created Value Sample MetricName MUST have the suffix _created." Example: # TYPE foo counter / foo_total 17.0 /
  // foo_created 1520430000.123
  for (const name of ["foo", "foo_total"]) {
    const text = toOpenMetrics([
      counter(
        name,
        [{ labels: {}, value: 17, created: 1520430000.123 }, { labels: {}, value: 1, created: undefined }],
        {
          help: "",
        },
      ),
    ]);
    assert.deepEqual(linesOf(text), [
      "# TYPE foo counter",
      "foo_total 17",
      "foo_created 1520430000.123",
      "foo_total 1",
      "# EOF",
    ]);
  }
});

test("toOpenMetrics() prints TYPE, UNIT and HELP in that order, UNIT only when the unit is a suffix of the name", () => {
  // "If a unit is specified it MUST be provided in a UNIT metadata line. In addition, an underscore and the unit MUST
  // be the suffix of the MetricFamily name." "The ordering SHOULD be TYPE, UNIT, HELP." And the invalid example,
  // where the unit is not a suffix on the name: # TYPE foo counter / # UNIT foo seconds.
  const text = toOpenMetrics([
    counter("foo_seconds", [], { unit: "seconds", help: "Time." }),
    counter("cpu_seconds_total", [], { unit: "seconds", help: "" }),
    gauge("foo", [], { unit: "seconds", help: "" }),
    gauge("bar_xseconds", [], { unit: "seconds", help: "" }),
    gauge("bar_seconds", [], { unit: "", help: "" }),
  ]);
  assert.deepEqual(linesOf(text), [
    "# TYPE foo_seconds counter",
    "# UNIT foo_seconds seconds",
    "# HELP foo_seconds Time.",
    "# TYPE cpu_seconds counter",
    "# UNIT cpu_seconds seconds",
    "# TYPE foo gauge",
    "# TYPE bar_xseconds gauge",
    "# TYPE bar_seconds gauge",
    "# EOF",
  ]);
  // 0.0.4 has no UNIT line.
  assert.doesNotMatch(toPrometheus([gauge("foo_seconds", [{ labels: {}, value: 1 }], { unit: "seconds" })]), /UNIT/);
});

test("toOpenMetrics() prints the specification's histogram example, le in canonical form", () => {
  // The example of a Metric with Sum, Count and Created and 12 buckets, "a wide and atypical but valid variety of
  // le values", verbatim, then # EOF.
  const bounds = [0, 1e-5, 0.0001, 0.1, 1, 10, 100000, 1e6, 1e23, 1.1e23];
  const text = toOpenMetrics([
    histogram("foo", [observed({}, bounds, [0, 0, 5, 3, 2, 1, 0, 4, 1, 1, 0], 324789.3, 1520430000.123)], {
      help: "",
    }),
  ]);
  assert.equal(
    text,
    `# TYPE foo histogram
foo_bucket{le="0.0"} 0
foo_bucket{le="1e-05"} 0
foo_bucket{le="0.0001"} 5
foo_bucket{le="0.1"} 8
foo_bucket{le="1.0"} 10
foo_bucket{le="10.0"} 11
foo_bucket{le="100000.0"} 11
foo_bucket{le="1e+06"} 15
foo_bucket{le="1e+23"} 16
foo_bucket{le="1.1e+23"} 17
foo_bucket{le="+Inf"} 17
foo_count 17
foo_sum 324789.3
foo_created 1520430000.123
# EOF
`,
  );
});

test("toOpenMetrics() renders le as the canonical numbers of the specification's lists", () => {
  // "Exposers SHOULD produce output for the values 0.0 up to 10.0 in 0.001 increments in line with the following
  // examples: 0.0 0.001 0.002 0.01 0.1 0.9 0.95 0.99 0.999 1.0 1.7 10.0", and "for the values 1e-10 up to 1e+10 in
  // powers of ten in line with the following examples: 1e-10 1e-09 1e-05 0.0001 0.1 1.0 100000.0 1e+06 1e+10".
  // "The target rendering is equivalent to the default Go rendering of float64 values (i.e. %g), with a .0 appended
  // in case there is no decimal point or exponent"; "Exposers MUST produce output for positive infinity as +Inf."
  const lists = [
    "0.0 0.001 0.002 0.01 0.1 0.9 0.95 0.99 0.999 1.0 1.7 10.0",
    "1e-10 1e-09 1e-05 0.0001 0.1 1.0 100000.0 1e+06 1e+10",
    // Go's %g beyond the lists: negative bounds, more digits, a three-digit exponent.
    "-1e+06 -2.5 -0.001 123456.7 1.234567e+06 1e+100 1.7976931348623157e+308",
  ];
  for (const list of lists) {
    const expected = list.split(" ");
    const bounds = expected.map(Number);
    const text = toOpenMetrics([histogram("h", [observed({}, bounds, bounds.map(() => 0).concat(0), 0)])]);
    const les = [...text.matchAll(/le="([^"]*)"/g)].map((m) => m[1]);
    assert.deepEqual(les, [...expected, "+Inf"]);
  }
  // Every power of ten, and the 0.001 steps, from the numbers a program computes (0.1 + 0.2 is not 0.3).
  const steps = Array.from({ length: 10001 }, (_, i) => i / 1000);
  const les = [
    ...toOpenMetrics([histogram("h", [observed({}, steps, steps.map(() => 0).concat(0), 0)])]).matchAll(
      /le="([^"]*)"/g,
    ),
  ].map((m) => m[1]);
  assert.equal(les.length, steps.length + 1);
  for (const [i, le] of les.slice(0, -1).entries()) {
    assert.match(le, /^\d+\.\d{1,3}$/, `${i / 1000}`);
    assert.equal(Number(le), i / 1000);
  }
});

test("toPrometheus() prints histograms as cumulative _bucket lines, _sum and _count equal to the +Inf bucket", () => {
  // "Each bucket count of a histogram named x is given as a separate sample line with the name x_bucket and a label
  // {le="y"}"; "A histogram must have a bucket with {le="+Inf"}. Its value must be identical to the value of
  // x_count"; "The buckets ... must appear in increasing numerical order". The specification's example, with le in
  // the canonical form (its `le="1"` is `1.0` here: the form OpenMetrics requires and Prometheus 3 normalizes to).
  const text = toPrometheus([
    histogram("http_request_duration_seconds", [
      observed({}, [0.05, 0.1, 0.2, 0.5, 1], [24054, 9390, 66948, 28997, 4599, 10332], 53423),
    ], { help: "A histogram of the request duration.", unit: "seconds" }),
  ]);
  assert.equal(
    text,
    `# HELP http_request_duration_seconds A histogram of the request duration.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.05"} 24054
http_request_duration_seconds_bucket{le="0.1"} 33444
http_request_duration_seconds_bucket{le="0.2"} 100392
http_request_duration_seconds_bucket{le="0.5"} 129389
http_request_duration_seconds_bucket{le="1.0"} 133988
http_request_duration_seconds_bucket{le="+Inf"} 144320
http_request_duration_seconds_sum 53423
http_request_duration_seconds_count 144320
`,
  );
});

test("toPrometheus() and toOpenMetrics() put le after a histogram series' own labels, escaped like them", () => {
  const family = histogram("h", [observed({ path: '/a"b\\c\nd', code: "200" }, [1], [2, 3], 4.5, 10)]);
  const labels = String.raw`path="/a\"b\\c\nd",code="200"`;
  assert.deepEqual(linesOf(toPrometheus([family])).slice(2), [
    `h_bucket{${labels},le="1.0"} 2`,
    `h_bucket{${labels},le="+Inf"} 5`,
    `h_sum{${labels}} 4.5`,
    `h_count{${labels}} 5`,
  ]);
  assert.deepEqual(linesOf(toOpenMetrics([family])).slice(2, -1), [
    `h_bucket{${labels},le="1.0"} 2`,
    `h_bucket{${labels},le="+Inf"} 5`,
    `h_count{${labels}} 5`,
    `h_sum{${labels}} 4.5`,
    `h_created{${labels}} 10`,
  ]);
});

test("toOpenMetrics() leaves out _count and _sum where a histogram's sum cannot be a counter", () => {
  // "Semantically, Sum, and buckets values are counters so MUST NOT be NaN or negative. Negative threshold buckets MAY
  // be used, but then the Histogram MetricPoint MUST NOT contain a sum value"; "If and only if a Sum Value is present
  // in a MetricPoint, then the MetricPoint's +Inf Bucket value MUST also appear in a Sample with ... _count".
  const text = toOpenMetrics([
    histogram("below_zero", [observed({}, [-1, 1], [1, 1, 0], 0.5)]),
    histogram("negative_sum", [observed({}, [1], [2, 0], -3), observed({ a: "nan" }, [1], [1, 0], NaN)]),
    histogram("fine", [observed({}, [-0, 1], [1, 0, 0], 0)]),
  ]);
  const samples = linesOf(text).filter((line) => !line.startsWith("#"));
  assert.deepEqual(samples, [
    'below_zero_bucket{le="-1.0"} 1',
    'below_zero_bucket{le="1.0"} 2',
    'below_zero_bucket{le="+Inf"} 2',
    'negative_sum_bucket{le="1.0"} 2',
    'negative_sum_bucket{le="+Inf"} 2',
    'negative_sum_bucket{a="nan",le="1.0"} 1',
    'negative_sum_bucket{a="nan",le="+Inf"} 1',
    'fine_bucket{le="-0.0"} 1',
    'fine_bucket{le="1.0"} 1',
    'fine_bucket{le="+Inf"} 1',
    "fine_count 1",
    "fine_sum 0",
  ]);
  // 0.0.4 has no such rule: the sum is printed as it is.
  assert.match(toPrometheus([histogram("h", [observed({}, [-1], [1, 0], NaN)])]), /\nh_sum NaN\nh_count 1\n$/);
});

test("toPrometheus() prints nothing for a family without series; toOpenMetrics() prints its metadata", () => {
  // 0.0.4's own parser drops a family without samples; OpenMetrics: "An example of a MetricFamily with no Metrics:
  // # TYPE foo gauge".
  const families = [gauge("foo", [], { help: "" }), counter("c", [], { help: "Never counted." })];
  assert.equal(toPrometheus(families), "");
  assert.equal(toOpenMetrics(families), "# TYPE foo gauge\n# TYPE c counter\n# HELP c Never counted.\n# EOF\n");
  assert.equal(toPrometheus([]), "");
  assert.equal(toOpenMetrics([]), "# EOF\n");
});

test("toPrometheus() and toOpenMetrics() refuse bad names and labels with a TypeError naming them", () => {
  const cases: [MetricFamily[], RegExp][] = [
    [[gauge("1abc", [])], /"1abc".*not a Prometheus metric name/],
    [[gauge("a-b", [])], /"a-b"/],
    [[counter("_total", [])], /"_total".*not a Prometheus metric name/],
    [[gauge("g", [{ labels: { "bad-label": "x" }, value: 1 }])], /label name "bad-label" is not a Prometheus label/],
    [[gauge("g", [{ labels: { a: 1 as unknown as string }, value: 1 }])], /value 1 of the label "a" is not a string/],
    [[histogram("h", [observed({ le: "1" }, [], [1], 1)])], /"h": a histogram cannot have the label "le"/],
    [[gauge("g", []), gauge("g", [])], /"g": the name "g" is also taken by the family "g"/],
    [[counter("foo", []), counter("foo_total", [])], /"foo_total": the name "foo" is also taken by the family "foo"/],
    [[counter("foo", []), gauge("foo_created", [])], /"foo_created".*taken by the family "foo"/],
    [[histogram("req", []), gauge("req_count", [])], /"req_count".*taken by the family "req"/],
    [[{ ...gauge("s", []), type: "summary" } as unknown as MetricFamily], /unknown type "summary"/],
    [[gauge("g", [{ labels: {}, value: "1" as unknown as number }])], /"g": the value "1" is not a number/],
    [[gauge("g", [null as unknown as GaugeFamily["series"][0]])], /"g": the series null is not an object/],
    [[gauge("g", [], { help: 5 as unknown as string })], /the help 5 is not a string/],
  ];
  for (const print of [toPrometheus, toOpenMetrics]) {
    assert.throws(() => print("x" as unknown as MetricFamily[]), TypeError);
    for (const [families, message] of cases) assert.throws(() => print(families), { name: "TypeError", message });
  }
});

test("toPrometheus() and toOpenMetrics() refuse impossible values with a RangeError naming them", () => {
  const bad = (buckets: { le: number; count: number }[], count = buckets.at(-1)?.count ?? 0) =>
    histogram("h", [{ labels: {}, buckets, count, sum: 1, created: undefined }]);
  const cases: [MetricFamily, RegExp][] = [
    [
      counter("c", [{ labels: {}, value: -1, created: undefined }]),
      /counter "c": the value -1 is not a number at least 0/,
    ],
    [counter("c", [{ labels: {}, value: NaN, created: undefined }]), /the value NaN/],
    [counter("c", [{ labels: {}, value: 1, created: NaN }]), /"c": the created time NaN is not a finite number/],
    [bad([]), /"h": a series' buckets do not end with le = \+Inf/],
    [bad([{ le: 1, count: 1 }]), /do not end with le = \+Inf/],
    [bad([{ le: 2, count: 1 }, { le: 1, count: 1 }, { le: Infinity, count: 1 }]), /le = 1 is not above the one before/],
    [bad([{ le: NaN, count: 1 }, { le: Infinity, count: 1 }]), /le = NaN/],
    [
      bad([{ le: 1, count: 2 }, { le: Infinity, count: 1 }]),
      /the count 1 of bucket le = \+Inf is not an integer at least/,
    ],
    [bad([{ le: 1, count: 0.5 }, { le: Infinity, count: 1 }]), /the count 0.5 of bucket le = 1.0/],
    [bad([{ le: Infinity, count: 3 }], 4), /"h": the count 4 differs from the \+Inf bucket's 3/],
  ];
  for (const print of [toPrometheus, toOpenMetrics]) {
    for (const [family, message] of cases) assert.throws(() => print([family]), { name: "RangeError", message });
  }
});

// ---------------------------------------------------------------------------------------------------------------
// The real tools.

/** Families that exercise every rule above, with names and help a linter accepts. */
const sample: MetricFamily[] = [
  counter("http_requests_total", [
    { labels: { method: "GET", path: '/a"b\\c\nd é日😀' }, value: 1027, created: 1700000000.25 },
    { labels: { method: "POST", path: "" }, value: 0, created: undefined },
    { labels: { method: "PUT", path: "x" }, value: Infinity, created: 1700000001 },
  ], { help: 'Requests served, by "method" and\npath \\ route.' }),
  counter("process_cpu_seconds", [{ labels: {}, value: 4.20072246e6, created: 1700000000 }], {
    help: "CPU time.",
    unit: "seconds",
  }),
  gauge("queue_length", [
    { labels: { queue: "a" }, value: NaN },
    { labels: { queue: "b" }, value: -Infinity },
    { labels: { queue: "c" }, value: Infinity },
    { labels: { queue: "d" }, value: -0 },
    { labels: { queue: "e" }, value: -12.5e-7 },
  ], { help: "Jobs waiting." }),
  gauge("temperature_celsius", [], { help: "Empty.", unit: "celsius" }),
  histogram("request_duration_seconds", [
    observed(
      { route: "/" },
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      [
        1,
        2,
        3,
        4,
        5,
        6,
        7,
        8,
        9,
        10,
        11,
        12,
      ],
      123.456,
      1700000000,
    ),
    observed({ route: "/x" }, [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], Array(12).fill(0), 0),
  ], { help: "Latency.", unit: "seconds" }),
  histogram("temperature_change_celsius", [observed({}, [-10, 0, 10], [1, 2, 3, 4], 5)], {
    help: "With negative buckets.",
    unit: "celsius",
  }),
];

test("promtool check metrics accepts toPrometheus() output without a problem", { skip: skip.promtool }, () => {
  const text = toPrometheus(sample);
  const result = promtool(text);
  assert.deepEqual(result, { status: 0, output: "" }, text);
  // And it is the judge it should be: it refuses a broken escape and lints a counter without _total.
  assert.equal(promtool('g{a="x\\"} 1\n').status, 1);
  assert.equal(promtool("# HELP c x\n# TYPE c counter\nc 1\n").status, 3);
});

/** A family as the parser should read it. */
interface Expected {
  name: string;
  type: string;
  help: string;
  unit: string;
  /** `le` is the bound for buckets (compared as a number: `${-0}` is "0"). */
  samples: { name: string; labels: Labels; value: number; le?: number }[];
}

/** Each family's samples as the specification says they are printed: names, labels (with le) and values. */
function expected(families: readonly MetricFamily[], format: Format): Expected[] {
  const out: Expected[] = [];
  for (const f of families) {
    if (format === "prometheus" && f.series.length === 0) continue;
    const name = f.type === "counter" ? f.name.replace(/_total$/, "") : f.name;
    const samples: Expected["samples"] = [];
    const created = (s: { labels: Labels; created: number | undefined }) => {
      if (format === "openmetrics" && s.created !== undefined) {
        samples.push({ name: name + "_created", labels: s.labels, value: s.created });
      }
    };
    if (f.type === "counter") {
      for (const s of f.series) {
        samples.push({ name: name + "_total", labels: s.labels, value: s.value });
        created(s);
      }
    } else if (f.type === "gauge") {
      for (const s of f.series) samples.push({ name, labels: s.labels, value: s.value });
    } else {
      for (const s of f.series) {
        for (const b of s.buckets) {
          samples.push({ name: name + "_bucket", labels: s.labels, value: b.count, le: b.le });
        }
        const count = { name: name + "_count", labels: s.labels, value: s.count };
        const sum = { name: name + "_sum", labels: s.labels, value: s.sum };
        if (format === "prometheus") samples.push(sum, count);
        else if (s.sum >= 0 && s.buckets[0].le >= 0) samples.push(count, sum);
        created(s);
      }
    }
    out.push({
      name,
      type: f.type,
      help: format === "prometheus" ? f.help.replace(PYTHON_EDGE_BLANKS, "") : f.help,
      unit: format === "openmetrics" && f.unit !== "" && name.endsWith("_" + f.unit) ? f.unit : "",
      samples,
    });
  }
  return out;
}

/**
 * What prometheus_client's 0.0.4 parser drops from a help text: it splits the line on whitespace (Python's, which is
 * more than the blanks and tabs the format names) and strips it, so the format cannot carry blanks at either end of a
 * help text. Line feeds are escaped, so they survive.
 */
const PYTHON_BLANKS = "\\t\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const PYTHON_EDGE_BLANKS = new RegExp(`^[${PYTHON_BLANKS}]+|[${PYTHON_BLANKS}]+$`, "gu");

/**
 * Compares what the parser read with what was printed: names, types, help and units exactly, label values exactly,
 * values as the same float (NaN as NaN, -0 as -0), `le` as the same number in the canonical form.
 */
function assertParsed(actual: ParsedFamily[], families: readonly MetricFamily[], format: Format, text: string) {
  const wanted = expected(families, format);
  const context = `${format} text:\n${text}`;
  assert.deepEqual(
    actual.map(({ name, type, help, unit }) => ({ name, type, help, unit })),
    wanted.map(({ name, type, help, unit }) => ({ name, type, help, unit })),
    context,
  );
  for (const [i, family] of actual.entries()) {
    const want = wanted[i].samples;
    assert.equal(family.samples.length, want.length, `${family.name}: ${context}`);
    for (const [j, s] of family.samples.entries()) {
      const w = want[j];
      const where = `${s.name} ${JSON.stringify(s.labels)}: ${context}`;
      assert.equal(s.name, w.name, where);
      assert.equal(s.timestamp, null, where);
      const { le, ...labels } = s.labels;
      assert.deepEqual(labels, w.labels, where);
      assert.equal(le === undefined, w.le === undefined, where);
      if (le !== undefined) {
        const bound = le === "+Inf" ? Infinity : le === "-Inf" ? -Infinity : Number(le);
        assert.ok(Object.is(bound, w.le), `le ${le} is ${w.le}: ${where}`);
        // prometheus_client renders positive bounds the Go way too (it says it "only need[s] to care about positive
        // values for le"), except that it writes exponents 10 to 15 with three digits ("2.5e+013" where Go writes
        // "2.5e+13"); a negative bound must still read as a float, with a point or an exponent.
        if (bound > 0) assert.equal(le, s.go!.replace(/e\+0(\d\d)$/, "e+$1"), where);
        else assert.match(le, /[.e]|Inf/, where);
      }
      assert.ok(Object.is(pythonFloat(s.value), w.value), `${s.value} is ${w.value}: ${where}`);
    }
  }
}

test("prometheus_client's 0.0.4 parser reads toPrometheus() output back exactly", { skip: skip.python }, () => {
  const text = toPrometheus(sample);
  const parsed = parse("prometheus", text);
  assert.ok(parsed.ok, `${!parsed.ok && parsed.error}: ${text}`);
  assertParsed(parsed.families, sample, "prometheus", text);
});

test("prometheus_client's OpenMetrics parser reads toOpenMetrics() output back exactly", { skip: skip.python }, () => {
  const text = toOpenMetrics(sample);
  const parsed = parse("openmetrics", text);
  assert.ok(parsed.ok, `${!parsed.ok && parsed.error}: ${text}`);
  assertParsed(parsed.families, sample, "openmetrics", text);
  // And it is the strict judge it should be: it refuses a count that differs from +Inf, a missing # EOF, a unit that
  // is not a suffix and a counter sample without _total.
  const refuses = (text: string) => assert.equal(parse("openmetrics", text).ok, false, text);
  refuses('# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_count 3\nh_sum 1\n# EOF\n');
  refuses("# TYPE g gauge\ng 1\n");
  refuses("# TYPE g gauge\n# UNIT g seconds\ng 1\n# EOF\n");
  refuses("# TYPE c counter\nc 1\n# EOF\n");
});

// ---------------------------------------------------------------------------------------------------------------
// Random families, judged by the real parsers.

/** Text with what needs escaping, and any Unicode code point (no lone surrogates: they are not UTF-8). */
const text = fc.oneof(
  fc.string({ unit: "binary", maxLength: 16 }),
  fc.string({
    unit: fc.constantFrom(
      '"',
      "\\",
      "\n",
      "n",
      " ",
      "\t",
      "\r",
      "\0",
      "#",
      "{",
      "}",
      ",",
      "=",
      "é",
      "😀",
      "\u2028",
      "\x85",
    ),
    maxLength: 12,
  }),
);
const metricName = fc.stringMatching(/^[a-zA-Z_:][a-zA-Z0-9_:]{0,12}$/);
const labelName = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,8}$/).filter((n) => n !== "le");
const special = fc.constantFrom(NaN, Infinity, -Infinity, -0, 0);
const anyValue = fc.oneof(fc.double(), special);
const counterValue = fc.oneof(fc.double({ min: 0, noNaN: true }), fc.constantFrom(0, -0, Infinity));
const created = fc.option(fc.double({ noNaN: true, noDefaultInfinity: true }), { nil: undefined });
const UNITS = ["seconds", "bytes", "ratio", "celsius"];

const family: fc.Arbitrary<Omit<MetricFamily, "name"> & { base: string; suffix: boolean }> = fc.record({
  type: fc.constantFrom("counter" as const, "gauge" as const, "histogram" as const),
  base: metricName,
  suffix: fc.boolean(),
  help: text,
  unit: fc.constantFrom("", ...UNITS),
  labelNames: fc.uniqueArray(labelName, { maxLength: 3 }),
  bounds: fc.uniqueArray(fc.double({ noNaN: true, noDefaultInfinity: true }), {
    maxLength: 5,
    comparator: "SameValueZero",
  })
    .map((b) => b.sort((x, y) => x - y)),
}).chain(({ type, base, suffix, help, unit, labelNames, bounds }) => {
  const labels = fc.uniqueArray(fc.array(text, { minLength: labelNames.length, maxLength: labelNames.length }), {
    maxLength: 4,
    selector: (values) => JSON.stringify(values),
  }).map((sets) => sets.map((values) => Object.fromEntries(labelNames.map((n, i) => [n, values[i]]))));
  const series = type === "counter"
    ? labels.chain((sets) =>
      fc.tuple(...sets.map((l) => fc.record({ labels: fc.constant(l), value: counterValue, created })))
    )
    : type === "gauge"
    ? labels.chain((sets) => fc.tuple(...sets.map((l) => fc.record({ labels: fc.constant(l), value: anyValue }))))
    : labels.chain((sets) =>
      fc.tuple(...sets.map((l) =>
        fc.record({
          counts: fc.array(fc.integer({ min: 0, max: 2 ** 40 }), {
            minLength: bounds.length + 1,
            maxLength: bounds.length + 1,
          }),
          sum: anyValue,
          created,
        }).map(({ counts, sum, created }) => observed(l, bounds, counts, sum, created))
      ))
    );
  return series.map((series) => ({ type, base, suffix, help, unit, series } as never));
});

/**
 * Random families with unique names: each name ends with its index (then perhaps the unit, and `_total` for some
 * counters), so no two families can clash, whatever the random part is.
 */
const families: fc.Arbitrary<MetricFamily[]> = fc.array(family, { maxLength: 5 }).map((list) =>
  list.map(({ base, suffix, ...f }, i) => {
    const unitSuffix = suffix && f.unit !== "" ? `_${f.unit}` : "";
    const total = f.type === "counter" && suffix ? "_total" : "";
    return { ...f, name: `${base}_${i}${unitSuffix}${total}` } as MetricFamily;
  })
);

test("toPrometheus() and toOpenMetrics() output of random families parses back exactly", {
  skip: skip.python || skip.promtool,
}, async () => {
  const parser = new Parser();
  try {
    await fc.assert(
      fc.asyncProperty(families, async (families) => {
        for (const format of ["prometheus", "openmetrics"] as const) {
          const text = format === "prometheus" ? toPrometheus(families) : toOpenMetrics(families);
          const parsed = await parser.parse(format, text);
          assert.ok(parsed.ok, `${!parsed.ok && parsed.error}: ${text}`);
          assertParsed(parsed.families, families, format, text);
          if (format === "prometheus") {
            const checked = promtool(text);
            // Random names draw lint remarks (camelCase, no help text): exit status 3. A parse error is 1.
            assert.ok(checked.status === 0 || checked.status === 3, `${checked.output}: ${text}`);
            assert.doesNotMatch(checked.output, /error while linting/, text);
          }
        }
      }),
      { numRuns: 100 },
    );
  } finally {
    await parser.close();
  }
});
