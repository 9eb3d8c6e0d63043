/**
 * Is the writer recorded in a struct file still running? A pid alone is not enough (pids
 * are reused), so the file also records the process start time, from `/proc` on Linux.
 * Internal.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import process from "node:process";
import { errnoName } from "../ffi/errno.ts";
import { libc } from "../ffi/libc.ts";

/** This process's id. */
export const PID: number = process.pid;

interface ProcStat {
  state: string;
  start: bigint;
}

/** Fields 3 (state) and 22 (starttime) of `/proc/<pid>/stat`, or undefined off Linux. */
function procStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch {
    return undefined; // no such process, or no /proc (macOS): the caller falls back to kill()
  }
  // The command name (field 2) is in parentheses and may contain spaces and parentheses.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const start = fields[19];
  return { state: fields[0], start: /^\d+$/.test(start ?? "") ? BigInt(start) : 0n };
}

let ownStart: bigint | undefined;

/** This process's start time in clock ticks since boot, or 0 where unknown. */
export function ownStartTime(): bigint {
  return ownStart ??= procStat(PID)?.start ?? 0n;
}

/**
 * Whether process `pid`, started at `start` (0: unknown), is running. A zombie (killed,
 * not yet reaped) is not; nor is a different process that reuses the pid.
 */
export function isAlive(pid: number, start: bigint): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid > 0x3fffffff) return false;
  const c = libc();
  if (c.kill(pid, 0) !== 0) {
    const errno = c.errno();
    // EPERM: it exists but belongs to another user.
    if (errnoName(errno) !== "EPERM") return false;
  }
  const stat = procStat(pid);
  if (stat === undefined) return true;
  if (stat.state === "Z" || stat.state === "X") return false;
  return start === 0n || stat.start === 0n || stat.start === start;
}
