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
 * the process). Seen under gdb on Bun 1.4.5, x86_64, for each of the six array types: DFG
 * emits `lock cmpxchg` (swapping the value for itself), FTL `lock xadd` of 0; with DFG off
 * (`BUN_JSC_useDFGJIT=0`, so LLInt and Baseline only) nothing faults. A loop of loads
 * crashes once DFG takes over, after 50,000 to 100,000 loads. 64-bit `Atomics.load` did not
 * fault in any tier. Plain loads are safe, but DFG and FTL hoist them out of a polling loop
 * (it then never sees another process's store), so a reader needs a barrier the JIT keeps
 * (`AtomicField.load` has one). `tests/atomic_read_only.test.ts` checks each of these.
 */
export const ATOMIC_LOAD_MAY_WRITE: boolean = detectRuntime() === "bun";
