/**
 * {@linkcode StaleWriterError}: a consistent snapshot cannot be had because the writer
 * is gone, stopped or stuck.
 *
 * @module
 */

/** What a {@linkcode StaleWriterError} carries besides its message. */
export interface StaleWriterErrorOptions {
  /** The struct file. */
  path: string;
  /** The writer's process id, as recorded in the file. */
  pid: number;
  /** Whether that process is still running. */
  alive: boolean;
  /** The error this one wraps, if any (what the update's function threw). */
  cause?: unknown;
}

/**
 * A reader gave up waiting for a consistent copy: the writer recorded in the file is
 * inside an update and either no longer exists (`alive` is false: it was killed mid-update,
 * so the data may be half-written) or has not finished within the timeout (`alive` is
 * true: stopped, stuck, or updating without pause).
 *
 * A new writer recovers a file whose writer is dead: its first `update()` completes the
 * sequence.
 *
 * `update()` throws it too: when another writer holds the file for longer than the timeout,
 * and when another writer took the file over during this update (it judged this process
 * dead, which should not happen between processes of one pid namespace), in which case the
 * data may mix both updates.
 *
 * Constructed like every error class of mmstruct: `new StaleWriterError(message, { path,
 * pid, alive, cause? })` (mmstruct 0.1.0 took `(path, pid, alive, waitedMs?,
 * message?)`).
 *
 * @example Handle a dead writer
 * ```ts
 * import { StaleWriterError } from "@mmstruct/mmstruct";
 * import assert from "node:assert/strict";
 *
 * const error = new StaleWriterError("Writer process 4242 died", { path: "stats.mms", pid: 4242, alive: false });
 * assert.equal(error.alive, false);
 * assert.match(error.message, /4242/);
 * ```
 */
export class StaleWriterError extends Error {
  /** The struct file. */
  readonly path: string;
  /** The writer's process id, as recorded in the file. */
  readonly pid: number;
  /** Whether that process is still running. */
  readonly alive: boolean;

  /**
   * Makes the error.
   *
   * @param message Human-readable text, e.g. `Cannot snapshot "stats.mms": writer process 4242 died inside an update`.
   * @param options The file, the writer's pid, whether it runs, and the error this one wraps.
   */
  constructor(message: string, options: StaleWriterErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "StaleWriterError";
    this.path = options.path;
    this.pid = options.pid;
    this.alive = options.alive;
  }
}

/** The message of a {@linkcode StaleWriterError} for what could not be done. Internal. */
export function staleWriterMessage(
  action: "snapshot" | "update",
  path: string,
  pid: number,
  alive: boolean,
  waitedMs?: number,
): string {
  return alive
    ? `Cannot ${action} ${JSON.stringify(path)}: writer process ${pid} is alive but has not finished its update in ${
      waitedMs ?? 0
    } ms (stopped or stuck)`
    : `Cannot ${action} ${
      JSON.stringify(path)
    }: writer process ${pid} died inside an update, the data may be half-written`;
}
