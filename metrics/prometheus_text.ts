/**
 * {@linkcode toPrometheus}: merged metric families in the Prometheus text format 0.0.4.
 *
 * @module
 */

import type { MetricFamily } from "./families.ts";
import { printFamilies } from "./_print_families.ts";

/**
 * The HTTP `Content-Type` of {@linkcode toPrometheus}'s output: the Prometheus text format, version 0.0.4, in UTF-8.
 *
 * @example Serving the text format
 * ```ts
 * import { PROMETHEUS_CONTENT_TYPE, toPrometheus } from "@mmstruct/mmstruct";
 * import assert from "node:assert/strict";
 *
 * const response = new Response(toPrometheus([]), { headers: { "content-type": PROMETHEUS_CONTENT_TYPE } });
 * assert.equal(response.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
 * ```
 */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/**
 * Prints metric families in the Prometheus text format 0.0.4, the format every Prometheus server and most scrapers
 * read, and the one served when a scraper does not ask for OpenMetrics.
 *
 * Each family with at least one series prints `# HELP` (omitted when the help is empty; `\` and line feed escaped),
 * `# TYPE`, then its samples, one per line, labels in the order given:
 * - a counter as `<name>_total` (its HELP and TYPE lines name `<name>_total` too, as the format requires of a
 *   sample's family). A counter family named `foo_total` prints as `foo_total` too, never `foo_total_total`.
 * - a gauge as `<name>`;
 * - a histogram as cumulative `<name>_bucket{le="…"}` lines ending with `le="+Inf"`, then `<name>_sum` and
 *   `<name>_count`, which is printed from the `+Inf` bucket, so the two are equal by construction. `le` values are in
 *   OpenMetrics' canonical form (`1.0`, `0.005`, `1e+06`), so a series keeps its labels when a scraper switches to
 *   OpenMetrics (Prometheus 3 normalizes `le` to this form anyway).
 *
 * Label values escape `\`, `"` and line feed; values are the shortest decimal that reads back exactly, `NaN`, `+Inf`
 * and `-Inf`. No timestamps. Families without series print nothing: the format has no use for metadata without
 * samples (Prometheus' own parser drops such families, and its encoder refuses them). The format has no created
 * times, so `created` is not printed: a `foo_created` sample here would be one more untyped series per series for
 * Prometheus to store, not the created time of `foo_total` (that needs OpenMetrics, see {@linkcode toOpenMetrics}).
 * The format cannot carry blanks at the start or end of a help text: parsers drop them.
 *
 * @param families The families to print, as {@linkcode collect} returns them; every sample name must be unique.
 * @returns The text, each line ending with a line feed (`""` when nothing has series).
 * @throws {TypeError} If a family has an unknown type or a name, label name or label value that is not valid, or two
 * families would print the same sample name (a gauge `foo_count` beside a histogram `foo`).
 * @throws {RangeError} If a counter value is negative or NaN, a created time is not finite, or a histogram's buckets
 * are not cumulative, do not end with `+Inf` or disagree with its `count` (the checks {@linkcode toOpenMetrics} makes,
 * so that a set of families prints in both formats or in neither).
 *
 * @example A counter, a gauge and a histogram
 * ```ts
 * import { toPrometheus } from "@mmstruct/mmstruct";
 * import assert from "node:assert/strict";
 *
 * const text = toPrometheus([
 *   {
 *     name: "http_requests",
 *     help: "Requests served.",
 *     unit: "",
 *     type: "counter",
 *     series: [{ labels: { route: "/api", code: "200" }, value: 1027, created: 1700000000 }],
 *   },
 *   {
 *     name: "queue_length",
 *     help: 'Jobs "waiting"\nin the queue.',
 *     unit: "",
 *     type: "gauge",
 *     series: [{ labels: {}, value: NaN }],
 *   },
 *   {
 *     name: "latency_seconds",
 *     help: "Request latency.",
 *     unit: "seconds",
 *     type: "histogram",
 *     series: [{
 *       labels: { path: 'C:\\dir "x"' },
 *       buckets: [{ le: 0.5, count: 2 }, { le: 1, count: 3 }, { le: Infinity, count: 4 }],
 *       count: 4,
 *       sum: 3.25,
 *       created: undefined,
 *     }],
 *   },
 * ]);
 * assert.equal(
 *   text,
 *   [
 *     "# HELP http_requests_total Requests served.",
 *     "# TYPE http_requests_total counter",
 *     'http_requests_total{route="/api",code="200"} 1027',
 *     '# HELP queue_length Jobs "waiting"\\nin the queue.',
 *     "# TYPE queue_length gauge",
 *     "queue_length NaN",
 *     "# HELP latency_seconds Request latency.",
 *     "# TYPE latency_seconds histogram",
 *     String.raw`latency_seconds_bucket{path="C:\\dir \"x\"",le="0.5"} 2`,
 *     String.raw`latency_seconds_bucket{path="C:\\dir \"x\"",le="1.0"} 3`,
 *     String.raw`latency_seconds_bucket{path="C:\\dir \"x\"",le="+Inf"} 4`,
 *     String.raw`latency_seconds_sum{path="C:\\dir \"x\""} 3.25`,
 *     String.raw`latency_seconds_count{path="C:\\dir \"x\""} 4`,
 *     "",
 *   ].join("\n"),
 * );
 * ```
 */
export function toPrometheus(families: readonly MetricFamily[]): string {
  return printFamilies(families, "prometheus");
}
