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

/**
 * JavaScriptCore's optimizing JITs compile `Atomics.load` on 8 to 32-bit typed arrays to a
 * read-modify-write instruction, which faults on a `PROT_READ` mapping (a SIGSEGV that kills
 * the process; measured on Bun 1.4, after a few thousand calls). Reads of read-only memory
 * must avoid it there: 64-bit `Atomics.load` and plain aligned loads are safe.
 */
export const ATOMIC_LOAD_MAY_WRITE: boolean = detectRuntime() === "bun";
