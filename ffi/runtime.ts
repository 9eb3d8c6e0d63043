/**
 * Which JavaScript runtime this is, by feature detection. Free of FFI, so that the layout
 * code can pick per-runtime fast paths without opening libc.
 *
 * @module
 */

/** The JavaScript runtime mmstruct is running on. */
export type Runtime = "deno" | "node" | "bun";

/** The part of the `Deno` global read here. */
export interface DenoLike {
  build?: { os?: string; arch?: string };
  version?: { deno?: string };
}
/** The part of the `process` global read here. */
export interface ProcessLike {
  platform?: string;
  arch?: string;
  versions?: { node?: string; bun?: string };
}

/** Which runtime this is, by feature (Deno and Bun also define `process`). */
export function detectRuntime(): Runtime {
  const g = globalThis as { Deno?: DenoLike; Bun?: unknown; process?: ProcessLike };
  if (g.Deno?.version?.deno !== undefined) return "deno";
  if (g.Bun !== undefined || g.process?.versions?.bun !== undefined) return "bun";
  return "node";
}
