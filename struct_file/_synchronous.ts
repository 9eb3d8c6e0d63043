/**
 * The checks that keep `StructFile.update(fn)` to a synchronous `fn`: the write section
 * ends when `fn` returns, so whatever an `async` function writes after its first `await`
 * would land outside it, where readers' snapshots could see it torn. Internal.
 *
 * @module
 */

/** The constructor of every `async` function and arrow (it has no global name). */
const AsyncFunction: unknown = (async () => {}).constructor;

/**
 * Throws a `TypeError` unless `fn` is a function that is not `async`. Called before the
 * write section is taken, so that a refused `fn` changes nothing and publishes nothing.
 */
export function refuseAsync(fn: unknown, path: string): void {
  if (typeof fn !== "function") {
    throw new TypeError(`Cannot update ${JSON.stringify(path)}: fn must be a function, got ${describe(fn)}`);
  }
  if (fn.constructor === AsyncFunction) {
    throw new TypeError(
      `Cannot update ${JSON.stringify(path)}: fn is an async function, and its writes after an await would ` +
        `land outside the write section: pass a synchronous function (nothing was written)`,
    );
  }
}

/**
 * Throws a `TypeError` if `result`, what `fn` returned, is a promise or any thenable: a
 * function that is not `async` but returns one (`() => save(view)`) can be told only
 * after it ran. Its synchronous writes are then in the file already, and `update`
 * publishes them as it does when `fn` throws.
 */
export function refuseThenable(result: unknown, path: string): void {
  if (
    ((typeof result === "object" && result !== null) || typeof result === "function") &&
    typeof (result as { then?: unknown }).then === "function"
  ) {
    throw new TypeError(
      `Cannot update ${JSON.stringify(path)}: fn returned a promise (a thenable), and its writes after an ` +
        `await land outside the write section: pass a synchronous function (the writes fn made before ` +
        `returning were published as one update)`,
    );
  }
}

function describe(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : typeof value === "object" ? String(value) : typeof value;
}
