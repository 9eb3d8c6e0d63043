/**
 * Test helpers for metrics: finding series in what `collect` returns, and hand-made
 * metrics files.
 *
 * @module
 */

import type { Collected, CounterSeries, GaugeSeries, HistogramSeries, MetricFamily } from "../mod.ts";
import { StructFile } from "../mod.ts";
import { encodeRecord, FLAG_ARCHIVE, segmentLayout } from "../metrics/_segment.ts";

/** The family named `name`, or a thrown error listing the names there are. */
export function family(collected: Collected, name: string): MetricFamily {
  const found = collected.families.find((f) => f.name === name);
  if (found === undefined) {
    throw new Error(`no family ${name} in ${collected.families.map((f) => f.name).join(", ")}`);
  }
  return found;
}

/** A counter family's values, keyed by its label values joined with `,` (in label order). */
export function counterValues(collected: Collected, name: string): Map<string, number> {
  const f = family(collected, name);
  if (f.type !== "counter") throw new Error(`${name} is a ${f.type}`);
  return new Map(f.series.map((s: CounterSeries) => [Object.values(s.labels).join(","), s.value]));
}

/** A gauge family's values, keyed like {@linkcode counterValues}. */
export function gaugeValues(collected: Collected, name: string): Map<string, number> {
  const f = family(collected, name);
  if (f.type !== "gauge") throw new Error(`${name} is a ${f.type}`);
  return new Map(f.series.map((s: GaugeSeries) => [Object.values(s.labels).join(","), s.value]));
}

/** A histogram family's series, keyed like {@linkcode counterValues}, buckets as counts only. */
export function histogramValues(
  collected: Collected,
  name: string,
): Map<string, { buckets: number[]; count: number; sum: number }> {
  const f = family(collected, name);
  if (f.type !== "histogram") throw new Error(`${name} is a ${f.type}`);
  return new Map(
    f.series.map((s: HistogramSeries) => [
      Object.values(s.labels).join(","),
      { buckets: s.buckets.map((b) => b.count), count: s.count, sum: s.sum },
    ]),
  );
}

/**
 * Writes a metrics file by hand: the given records (objects, or raw bytes for a broken
 * record), slot values, and header fields. For files a writer would never make.
 */
export function writeMetricsFile(
  path: string,
  options: {
    records: (Record<string, unknown> | Uint8Array)[];
    slots?: number[];
    archive?: number;
    entriesLength?: number;
  },
): void {
  const parts = options.records.map((r) => r instanceof Uint8Array ? r : encodeRecord(r));
  const entries = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    entries.set(part, at);
    at += part.length;
  }
  const slots = options.slots ?? [];
  StructFile.create(path, segmentLayout(Math.max(1024, entries.length), Math.max(16, slots.length)), {
    initial: {
      metrics_format: 1,
      entries_length: options.entriesLength ?? entries.length,
      slots_used: slots.length,
      flags: options.archive === undefined ? 0 : FLAG_ARCHIVE,
      writer_id: 0x1234n,
      pid: 1,
      thread: 0,
      started_ms: Date.now(),
      generation: BigInt(options.archive ?? 0),
      entries,
      slots,
    },
  }).close();
}
