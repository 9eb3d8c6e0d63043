/**
 * The one table of errno names: the running platform's own, as `node:os` gives it on
 * Deno, Node and Bun alike (libuv's list: every name a libc call here can return, and the
 * network ones an exporter's `bind` can). Every `MmapError` names its errno through it.
 *
 * @module
 */

import { constants } from "node:os";

const NUMBERS: Readonly<Record<string, number>> = constants.errno as Record<string, number>;

/**
 * Number to name. Where two names share a number, the first in the table wins: `EAGAIN`
 * over `EWOULDBLOCK`, `ENOTSUP` over `EOPNOTSUPP` (both pairs are one number on Linux).
 */
const NAMES: ReadonlyMap<number, string> = (() => {
  const names = new Map<number, string>();
  for (const [name, errno] of Object.entries(NUMBERS)) if (!names.has(errno)) names.set(errno, name);
  return names;
})();

/** The C name of an errno value on this platform, e.g. `"ENOENT"`; `"E<number>"` for one without a name. */
export function errnoName(errno: number): string {
  return NAMES.get(errno) ?? `E${errno}`;
}

/** The errno value of a C name on this platform, e.g. 2 for `"ENOENT"`; 0 for a name it does not have. */
export function errnoNumber(name: string): number {
  return Object.hasOwn(NUMBERS, name) ? NUMBERS[name] : 0;
}
