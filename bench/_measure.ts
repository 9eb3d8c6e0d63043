/**
 * Timing with mitata: each benchmark body runs an inner loop of `OPS` operations, so the
 * per-call overhead of the harness is spread thin; results are nanoseconds per operation.
 * Baseline and candidate are measured alternately, three times each, keeping the fastest,
 * so that a noisy moment hurts both sides alike.
 *
 * @module
 */

import { measure } from "mitata";

/** Operations per benchmark call. */
export const OPS = 1000;

/** One comparison: candidate time over baseline time (lower is better for the candidate). */
export interface Comparison {
  name: string;
  baseline: string;
  candidate: string;
  baselineNs: number;
  candidateNs: number;
  /** candidateNs / baselineNs. */
  ratio: number;
  /** The target ratio, if any, and whether lower or higher is better. */
  target?: { ratio: number; better: "lower" | "higher" };
}

async function nsPerOp(body: () => void, ops: number): Promise<number> {
  const stats = await measure(body, { min_cpu_time: 200 * 1e6 });
  return stats.avg / ops;
}

/** Measures `candidate` against `baseline`, both running `ops` operations per call. */
export async function compare(
  name: string,
  baseline: [string, () => void],
  candidate: [string, () => void],
  target?: Comparison["target"],
  ops: number = OPS,
): Promise<Comparison> {
  let baselineNs = Infinity;
  let candidateNs = Infinity;
  for (let round = 0; round < 3; round++) {
    baselineNs = Math.min(baselineNs, await nsPerOp(baseline[1], ops));
    candidateNs = Math.min(candidateNs, await nsPerOp(candidate[1], ops));
  }
  return {
    name,
    baseline: baseline[0],
    candidate: candidate[0],
    baselineNs,
    candidateNs,
    ratio: candidateNs / baselineNs,
    target,
  };
}

/** One line of the results table: a ratio, a time or a count, with its target. */
export interface Row {
  name: string;
  value: number;
  unit: "x" | "ns" | "ms" | "files";
  detail: string;
  target?: { value: number; better: "lower" | "higher" };
}

/** A comparison as a table row (the ratio of candidate to baseline). */
export function comparisonRow(c: Comparison): Row {
  return {
    name: `${c.name}: ${c.candidate} / ${c.baseline}`,
    value: c.ratio,
    unit: "x",
    detail: `${c.candidateNs.toFixed(2)} vs ${c.baselineNs.toFixed(2)} ns`,
    target: c.target === undefined ? undefined : { value: c.target.ratio, better: c.target.better },
  };
}
