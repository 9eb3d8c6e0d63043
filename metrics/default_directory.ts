/**
 * {@linkcode defaultMetricsDirectory}: where metrics go when no directory is given.
 *
 * @module
 */

import { resolve } from "node:path";
import { defaultDirectory } from "./_directory.ts";

/**
 * The directory {@linkcode Metrics.create}, {@linkcode collect}, {@linkcode compact} and the
 * CLI use when given none, as an absolute path: `$MMSTRUCT_METRICS_DIR`; else
 * `$XDG_RUNTIME_DIR/mmstruct-metrics` (a per-user tmpfs on systemd machines); else
 * `/dev/shm/mmstruct-metrics-<uid>` (tmpfs on Linux), or the same name in the temporary
 * directory where there is no `/dev/shm`. Read from the environment at each call; it does
 * not create the directory.
 *
 * @returns The directory, absolute.
 *
 * @example Where metrics go without a directory
 * ```ts
 * import { defaultMetricsDirectory } from "@mmstruct/mmstruct";
 * import assert from "node:assert/strict";
 * import process from "node:process";
 *
 * const saved = process.env.MMSTRUCT_METRICS_DIR;
 * process.env.MMSTRUCT_METRICS_DIR = "/run/myapp/metrics";
 * assert.equal(defaultMetricsDirectory(), "/run/myapp/metrics");
 * if (saved === undefined) delete process.env.MMSTRUCT_METRICS_DIR;
 * else process.env.MMSTRUCT_METRICS_DIR = saved;
 * ```
 */
export function defaultMetricsDirectory(): string {
  return resolve(defaultDirectory());
}
