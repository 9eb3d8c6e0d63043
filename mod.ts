/**
 * mmstruct: share data between processes through memory-mapped files, on Deno, Node and
 * Bun.
 *
 * {@linkcode MappedFile} maps a file with libc's `mmap` (through each runtime's FFI) and
 * hands out the mapped memory as a zero-copy `ArrayBuffer`: a write in one process is seen
 * by every other process mapping the file, without a system call. Read the
 * [Safety](https://jsr.io/@mmstruct/mmstruct#safety) section of the README before use.
 *
 * {@linkcode struct} declares a C-compatible layout (the offsets gcc would use) and gives
 * typed views whose properties read and write the memory at typed-array speed;
 * {@linkcode atomic} binds `Atomics` to an integer field; {@linkcode toC} and
 * {@linkcode toCtypes} print the same layout for C and Python.
 *
 * @example Writer and reader
 * ```ts
 * import { MappedFile } from "@mmstruct/mmstruct";
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const dir = mkdtempSync(join(tmpdir(), "mmstruct-"));
 * const path = join(dir, "stats.mms");
 * using writer = MappedFile.create(path, { size: 4096 });
 * using reader = MappedFile.open(path);
 * const hits = new Int32Array(writer.buffer);
 * Atomics.add(hits, 0, 1);
 * assert.equal(new Int32Array(reader.buffer)[0], 1); // a read-only map: plain reads (see Safety)
 * rmSync(dir, { recursive: true });
 * ```
 *
 * @example A struct in a mapped file
 * ```ts
 * import { atomic, MappedFile, struct, u32, u64, utf8 } from "@mmstruct/mmstruct";
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const Stats = struct({ requests: u64, errors: u32, last_path: utf8(32) });
 * const dir = mkdtempSync(join(tmpdir(), "mmstruct-"));
 * using file = MappedFile.create(join(dir, "stats.mms"), { size: Stats.size });
 * const stats = Stats.view(file);
 * atomic(stats, "requests").add(1n);
 * stats.last_path = "/api/users";
 * assert.deepEqual(Stats.read(file), { requests: 1n, errors: 0, last_path: "/api/users" });
 * rmSync(dir, { recursive: true });
 * ```
 *
 * @module
 */

export {
  type Advice,
  type CreateOptions,
  ensurePrivateDirectory,
  type LockMode,
  MappedFile,
  type OpenOptions,
  type SyncOptions,
} from "./mapped_file.ts";
export { MmapError, type MmapErrorOptions } from "./ffi/mmap_error.ts";
export {
  array,
  type ArrayType,
  bits,
  type BitsStorage,
  type BitsType,
  bool,
  type ByteOrder,
  bytes,
  type BytesType,
  type CompositeType,
  f32,
  f32be,
  f32le,
  f64,
  f64be,
  f64le,
  type FieldInfo,
  type FieldType,
  i16,
  i16be,
  i16le,
  i32,
  i32be,
  i32le,
  i64,
  i64be,
  i64le,
  i8,
  type ScalarName,
  type ScalarType,
  u16,
  u16be,
  u16le,
  u32,
  u32be,
  u32le,
  u64,
  u64be,
  u64le,
  u8,
  utf8,
  type Utf8Type,
} from "./layout/types.ts";
export {
  type ArrayValueOf,
  type ArrayView,
  type AssignableKeys,
  type BufferOwner,
  type BufferSource,
  type Fields,
  type InputOf,
  type ScalarArrayOf,
  struct,
  type StructCursor,
  type StructInput,
  type StructOptions,
  type StructType,
  type StructValue,
  type StructView,
  type TypedArrayOf,
  union,
  type ValueOf,
  type ViewOf,
} from "./layout/struct.ts";
export { ScalarArray } from "./layout/scalar_array.ts";
export {
  atomic,
  AtomicField,
  type AtomicKeys,
  type IntegerKeys,
  type IntegerName,
  type NumericKeys,
} from "./layout/atomics.ts";
export { toC } from "./layout/to_c.ts";
export { toCtypes } from "./layout/to_ctypes.ts";
export {
  StructFile,
  type StructFileCreateOptions,
  type StructFileOpenOptions,
  type StructFileStatus,
} from "./struct_file/struct_file.ts";
export { FormatError, type FormatErrorOptions, type FormatErrorReason } from "./struct_file/format_error.ts";
export { StaleWriterError, type StaleWriterErrorOptions } from "./struct_file/stale_writer_error.ts";
export { watch, type WatchEvent, type WatchOptions } from "./struct_file/watch.ts";
export { Metrics, type MetricsOptions } from "./metrics/metrics.ts";
export { Counter, CounterChild, type CounterConfig, type LabelValues } from "./metrics/counter.ts";
export { Gauge, type GaugeAggregate, GaugeChild, type GaugeConfig } from "./metrics/gauge.ts";
export { Histogram, HistogramChild, type HistogramConfig } from "./metrics/histogram.ts";
export { collect, type Collected, type CollectOptions, type ScrapeError } from "./metrics/collect.ts";
export { histogramQuantile } from "./metrics/histogram_quantile.ts";
export { compact, type CompactResult } from "./metrics/compact.ts";
export { defaultMetricsDirectory } from "./metrics/default_directory.ts";
export type {
  CounterFamily,
  CounterSeries,
  FamilyBase,
  GaugeFamily,
  GaugeSeries,
  HistogramBucket,
  HistogramFamily,
  HistogramSeries,
  Labels,
  MetricFamily,
} from "./metrics/families.ts";
export { PROMETHEUS_CONTENT_TYPE, toPrometheus } from "./metrics/prometheus_text.ts";
export { OPENMETRICS_CONTENT_TYPE, toOpenMetrics } from "./metrics/openmetrics_text.ts";
export { type MetricsHandler, metricsHandler, type MetricsHandlerOptions } from "./exporters/metrics_handler.ts";
export { toMetricsJson } from "./exporters/metrics_json.ts";
export { type MuninOptions, toMunin } from "./exporters/munin.ts";
export { NagiosRange } from "./exporters/nagios_range.ts";
export {
  NAGIOS_STATUS_NAMES,
  nagiosCheck,
  type NagiosCheckOptions,
  type NagiosCheckResult,
  type NagiosCheckState,
  type NagiosStatus,
} from "./exporters/nagios_check.ts";
