/**
 * The checks that keep `StructFile.update(fn)` to a synchronous `fn`: the write section
 * ends when `fn` returns, so whatever an `async` function writes after its first `await`
 * would land outside it, where readers' snapshots could see it torn. Internal.
 *
 * The tests (`isSynchronousFunction`, `isThenable`) are apart from the errors, and small:
 * `update` runs them on every call, and a JIT inlines them into it only while they stay so.
 *
 * @module
 */

/** The constructor of every `async` function and arrow (it has no global name). */
const AsyncFunction: unknown = (async () => {}).constructor;

/** Whether `fn` is a function that is not `async`, which `update` accepts. */
export function isSynchronousFunction(fn: unknown): boolean {
  return typeof fn === "function" && fn.constructor !== AsyncFunction;
}

/**
 * The `TypeError` for an `fn` that {@linkcode isSynchronousFunction} refuses: not a
 * function, or `async`. `update` checks before it takes the write section, so that a
 * refused `fn` changes nothing and publishes nothing.
 */
export function notSynchronousError(fn: unknown, path: string): TypeError {
  if (typeof fn !== "function") {
    return new TypeError(`Cannot update ${JSON.stringify(path)}: fn must be a function, got ${describe(fn)}`);
  }
  return new TypeError(
    `Cannot update ${JSON.stringify(path)}: fn is an async function, and its writes after an await would ` +
      `land outside the write section: pass a synchronous function (nothing was written)`,
  );
}

/**
 * Whether `result`, what `fn` returned, is a promise or any thenable: a function that is
 * not `async` but returns one (`() => save(view)`) can be told only after it ran.
 */
export function isThenable(result: unknown): boolean {
  return ((typeof result === "object" && result !== null) || typeof result === "function") &&
    typeof (result as { then?: unknown }).then === "function";
}

/**
 * The `TypeError` for an `fn` that returned a thenable ({@linkcode isThenable}). Its
 * synchronous writes are then in the file already, and `update` publishes them as it does
 * when `fn` throws.
 */
export function thenableError(path: string): TypeError {
  return new TypeError(
    `Cannot update ${JSON.stringify(path)}: fn returned a promise (a thenable), and its writes after an ` +
      `await land outside the write section: pass a synchronous function (the writes fn made before ` +
      `returning were published as one update)`,
  );
}

function describe(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : typeof value === "object" ? String(value) : typeof value;
}
