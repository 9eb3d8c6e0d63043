/**
 * {@linkcode toOpenMetrics}: merged metric families in the OpenMetrics 1.0 text format.
 *
 * @module
 */

import type { MetricFamily } from "./families.ts";
import { printFamilies } from "./_print_families.ts";

/**
 * The HTTP `Content-Type` of {@linkcode toOpenMetrics}'s output: OpenMetrics 1.0.0 text, in UTF-8. Prometheus asks
 * for it with `Accept: application/openmetrics-text; version=1.0.0`.
 *
 * @example Serving OpenMetrics
 * ```ts
 * import { OPENMETRICS_CONTENT_TYPE, toOpenMetrics } from "@mmstruct/mmstruct";
 * import assert from "node:assert/strict";
 *
 * const response = new Response(toOpenMetrics([]), { headers: { "content-type": OPENMETRICS_CONTENT_TYPE } });
 * assert.equal(response.headers.get("content-type"), "application/openmetrics-text; version=1.0.0; charset=utf-8");
 * ```
 */
export const OPENMETRICS_CONTENT_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/**
 * Prints metric families in the OpenMetrics 1.0 text format.
 *
 * Each family prints `# TYPE`, `# UNIT` (only when the unit is a suffix of the name, `_seconds` for `seconds`, as the
 * specification requires; otherwise the unit is left out) and `# HELP` (omitted when empty), then its samples, one per
 * line, labels in the order given:
 * - a counter as `<name>_total`, then `<name>_created` (seconds since the epoch) when the series has a created time.
 *   A counter family named `foo_total` is the family `foo`: `# TYPE foo counter`, samples `foo_total`.
 * - a gauge as `<name>`;
 * - a histogram as cumulative `<name>_bucket{le="…"}` lines, `le` in the canonical form (`0.005`, `1.0`, `1e+06`,
 *   `+Inf`), then `<name>_count` (printed from the `+Inf` bucket, so the two are equal by construction),
 *   `<name>_sum` and `<name>_created`. OpenMetrics makes the sum a counter: a series whose sum is negative or NaN, or
 *   whose histogram has a bucket below 0, prints no `_count` and `_sum` (the specification allows neither there),
 *   only its buckets.
 *
 * Help texts and label values escape `\`, `"` and line feed; values are the shortest decimal that reads back exactly,
 * `NaN`, `+Inf` and `-Inf`. No timestamps. A family without series prints its metadata alone. The text ends with
 * `# EOF`.
 *
 * @param families The families to print, as {@linkcode collect} returns them; every sample name must be unique.
 * @returns The text, each line ending with a line feed, the last line `# EOF`.
 * @throws {TypeError} If a family has an unknown type or a name, label name or label value that is not valid, or two
 * families would print the same sample name (a gauge `foo_created` beside a counter `foo`).
 * @throws {RangeError} If a counter value is negative or NaN, a created time is not finite, or a histogram's buckets
 * are not cumulative, do not end with `+Inf` or disagree with its `count`.
 *
 * @example A counter with a created time, and a histogram with a unit
 * ```ts
 * import { toOpenMetrics } from "@mmstruct/mmstruct";
 * import assert from "node:assert/strict";
 *
 * const text = toOpenMetrics([
 *   {
 *     name: "http_requests_total",
 *     help: 'Requests, by "route".',
 *     unit: "",
 *     type: "counter",
 *     series: [{ labels: { route: "/a\nb" }, value: 1027, created: 1700000000.5 }],
 *   },
 *   {
 *     name: "latency_seconds",
 *     help: "Request latency.",
 *     unit: "seconds",
 *     type: "histogram",
 *     series: [{
 *       labels: {},
 *       buckets: [{ le: 0.005, count: 1 }, { le: 1, count: 3 }, { le: Infinity, count: 4 }],
 *       count: 4,
 *       sum: 3.25,
 *       created: 1700000000,
 *     }],
 *   },
 * ]);
 * assert.equal(
 *   text,
 *   [
 *     "# TYPE http_requests counter",
 *     String.raw`# HELP http_requests Requests, by \"route\".`,
 *     String.raw`http_requests_total{route="/a\nb"} 1027`,
 *     String.raw`http_requests_created{route="/a\nb"} 1700000000.5`,
 *     "# TYPE latency_seconds histogram",
 *     "# UNIT latency_seconds seconds",
 *     "# HELP latency_seconds Request latency.",
 *     'latency_seconds_bucket{le="0.005"} 1',
 *     'latency_seconds_bucket{le="1.0"} 3',
 *     'latency_seconds_bucket{le="+Inf"} 4',
 *     "latency_seconds_count 4",
 *     "latency_seconds_sum 3.25",
 *     "latency_seconds_created 1700000000",
 *     "# EOF",
 *     "",
 *   ].join("\n"),
 * );
 * ```
 */
export function toOpenMetrics(families: readonly MetricFamily[]): string {
  return printFamilies(families, "openmetrics");
}
