/**
 * What the exporter tests' writers count (`fixtures/exporter_writer.ts`), and the totals
 * that follow from it, worked out from the same definition so that no test hard-codes a
 * result.
 *
 * @module
 */

/** The counter: `exporter_jobs_total{runtime, kind}`. */
export const JOBS = { name: "exporter_jobs_total", help: "Jobs done", labelNames: ["runtime", "kind"] } as const;
/** The histogram: `exporter_job_seconds{runtime}`. */
export const SECONDS = {
  name: "exporter_job_seconds",
  help: "Job durations",
  labelNames: ["runtime"],
  buckets: [0.1, 1],
} as const;

/** The kind of job `i`. */
export function kindOf(i: number): string {
  return i % 3 === 0 ? "write" : "read";
}

/** The duration observed for job `i`: values exact in binary, so sums are exact too. */
export function secondsOf(i: number): number {
  return [0.25, 0.5, 2, 0.0625][i % 4];
}

/** What `count` jobs of one writer add up to. */
export interface Totals {
  /** Jobs by kind. */
  readonly jobs: ReadonlyMap<string, number>;
  /** Histogram: cumulative bucket counts by upper bound (the last `Infinity`), count and sum. */
  readonly buckets: ReadonlyMap<number, number>;
  readonly count: number;
  readonly sum: number;
}

/** The totals of one writer that did `count` jobs. */
export function totals(count: number): Totals {
  const jobs = new Map<string, number>();
  const bounds = [...SECONDS.buckets, Infinity];
  const buckets = new Map(bounds.map((b) => [b, 0]));
  let sum = 0;
  for (let i = 0; i < count; i++) {
    jobs.set(kindOf(i), (jobs.get(kindOf(i)) ?? 0) + 1);
    const v = secondsOf(i);
    for (const b of bounds) if (v <= b) buckets.set(b, buckets.get(b)! + 1);
    sum += v;
  }
  return { jobs, buckets, count, sum };
}
