/**
 * {@linkcode StaleWriterError}: a consistent snapshot cannot be had because the writer
 * is gone, stopped or stuck.
 *
 * @module
 */

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
 * @example Handle a dead writer
 * ```ts
 * import { StaleWriterError } from "@mmstruct/mmstruct";
 * import assert from "node:assert/strict";
 *
 * const error = new StaleWriterError("stats.mms", 4242, false);
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
   * @param path The struct file.
   * @param pid The writer's process id.
   * @param alive Whether the writer is still running.
   * @param waitedMs How long the reader waited, for the message.
   * @param message A message to use instead of the one made from the other arguments.
   */
  constructor(path: string, pid: number, alive: boolean, waitedMs?: number, message?: string) {
    super(message ?? staleWriterMessage("snapshot", path, pid, alive, waitedMs));
    this.name = "StaleWriterError";
    this.path = path;
    this.pid = pid;
    this.alive = alive;
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
