/**
 * {@linkcode MmapError}, kept at this path for code that imported it from here: the class
 * lives in `ffi/mmap_error.ts`, next to the system calls that throw it. Import it from
 * `mod.ts` (`@mmstruct/mmstruct`).
 *
 * @module
 */

export { MmapError, type MmapErrorOptions } from "./ffi/mmap_error.ts";
