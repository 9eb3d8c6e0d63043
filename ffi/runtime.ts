/**
 * Which JavaScript runtime this is, by feature detection, and every runtime quirk
 * mmstruct works around, in one place: each names the runtime, the reason and where it
 * was seen. Free of FFI, so that the layout code can pick per-runtime fast paths without
 * opening libc.
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

/** The OS and architecture this runtime reports, by feature, with Node's names mapped to Deno's (`x64` -> `x86_64`). */
export function detectPlatform(): { os: string; arch: string } {
  const g = globalThis as { Deno?: DenoLike; process?: ProcessLike };
  const os = g.Deno?.build?.os ?? g.process?.platform ?? "unknown";
  const arch = g.Deno?.build?.arch ?? g.process?.arch ?? "unknown";
  return {
    os,
    arch: arch === "x64" ? "x86_64" : arch === "arm64" ? "aarch64" : arch,
  };
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

/**
 * 64-bit fields: `BigInt64Array` is faster on V8 (Deno, Node), `DataView` BigInt access is
 * 5-8x faster on JavaScriptCore (Bun), measured by `npm run bench`.
 */
export const BIGINT_VIA_DATAVIEW: boolean = detectRuntime() === "bun";

/**
 * Detaches `buffer` if this runtime can (`ArrayBuffer.prototype.transfer`: Deno, Bun, Node
 * 21+; Node 20 lacks it), so that no view over it reaches the memory again. Returns whether
 * it did: some external buffers are not detachable (the caller then falls back to another
 * way of cutting views off).
 */
export function detachBuffer(buffer: ArrayBuffer): boolean {
  const transfer = (buffer as { transfer?: (length: number) => ArrayBuffer }).transfer;
  if (typeof transfer !== "function") return false;
  try {
    transfer.call(buffer, 0);
  } catch {
    return false;
  }
  return (buffer as { detached?: boolean }).detached === true || buffer.byteLength === 0;
}
