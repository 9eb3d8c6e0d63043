/**
 * The layout shared by `struct_writer.ts` and `struct_reader.ts`, the same as this C struct:
 *
 * ```c
 * struct stats {
 *   uint64_t requests;
 *   uint32_t errors;
 *   float    load;
 *   double   latency_ms;
 *   char     last_path[32];
 * };
 * ```
 *
 * @module
 */

import { f32, f64, struct, u32, u64, utf8 } from "../mod.ts";

/** Request statistics of a web server. */
export const Stats = struct({
  requests: u64,
  errors: u32,
  load: f32,
  latency_ms: f64,
  last_path: utf8(32),
});
