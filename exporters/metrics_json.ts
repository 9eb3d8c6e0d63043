/**
 * {@linkcode toMetricsJson}: the merged metrics of a directory as JSON, as
 * `GET /metrics.json` and `mmstruct metrics --format json` print them.
 *
 * @module
 */

import type { Collected } from "../metrics/collect.ts";
import { describeValue } from "../ffi/describe_value.ts";

function nonFinite(_key: string, value: unknown): unknown {
  if (typeof value !== "number" || Number.isFinite(value)) return value;
  return value > 0 ? "+Inf" : value < 0 ? "-Inf" : "NaN";
}

/**
 * Prints what {@linkcode collect} returns as one line of JSON: an object with
 * `families`, `errors` and `writers`, exactly the fields of {@linkcode Collected}.
 *
 * - `families`: sorted by name, each `{ name, help, unit, type, series }` (`name` is the
 *   family name: a counter `foo` has samples `foo_total` in the text formats). A counter's
 *   series is `{ labels, value, created }`, a gauge's `{ labels, value }`, a histogram's
 *   `{ labels, buckets: [{ le, count }], count, sum, created }` with cumulative buckets, the
 *   last one `le: "+Inf"` with `count` equal to the series' count. `labels` is an object of
 *   label names to string values, in the metric's label order.
 * - Numbers are JSON numbers, except the three JSON has none for: `"NaN"`, `"+Inf"` and
 *   `"-Inf"` are strings, spelled as in the Prometheus text format (a value of
 *   `Infinity` has `"value": "+Inf"`; writers record finite values only, but a sum can
 *   overflow, and a file written by another program can hold anything). `created` (seconds since 1970-01-01 UTC) is left
 *   out when no writer recorded one.
 * - `errors`: the files that could not be read or merged, `{ path, reason, message }`.
 * - `writers`: `{ live, dead, archives }`.
 *
 * @param collected What {@linkcode collect} returned.
 * @returns The JSON text, without a trailing line feed.
 * @throws {TypeError} If `collected` is not an object with a `families` array.
 *
 * @example The JSON of a directory
 * ```ts
 * import { collect, Metrics, toMetricsJson } from "@mmstruct/mmstruct";
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const dir = mkdtempSync(join(tmpdir(), "mmstruct-"));
 * using metrics = Metrics.create(dir);
 * metrics.gauge({ name: "temperature", help: "Temperature" }).set(21.5);
 * metrics.histogram({ name: "size_bytes", help: "Sizes", buckets: [1024] }).observe(4096);
 * const json = JSON.parse(toMetricsJson(collect(dir, { meta: false })));
 * const [size, temperature] = json.families;
 * assert.deepEqual(temperature, {
 *   name: "temperature",
 *   help: "Temperature",
 *   unit: "",
 *   type: "gauge",
 *   series: [{ labels: {}, value: 21.5 }],
 * });
 * assert.deepEqual(size.series[0].buckets, [{ le: 1024, count: 0 }, { le: "+Inf", count: 1 }]);
 * assert.deepEqual(json.writers, { live: 1, dead: 0, archives: 0 });
 * rmSync(dir, { recursive: true });
 * ```
 */
export function toMetricsJson(collected: Collected): string {
  if (typeof collected !== "object" || collected === null || !Array.isArray(collected.families)) {
    throw new TypeError(
      `Cannot print metrics as JSON: expected what collect() returns, got ${describeValue(collected)}`,
    );
  }
  return JSON.stringify(collected, nonFinite);
}
