/**
 * Test helpers: temporary directories and child processes on any of the three runtimes.
 * The same file runs from `tests/` (Deno, Bun: TypeScript) and `dist/tests/` (Node: the
 * `tsc` output), so paths are worked out from where this module is.
 *
 * @module
 */

import { spawn, spawnSync, type SpawnSyncReturns } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { detectRuntime, type Runtime } from "../ffi/libc.ts";

const here = dirname(fileURLToPath(import.meta.url));
/** True when running the compiled JavaScript in `dist/tests/`. */
const compiled = fileURLToPath(import.meta.url).endsWith(".js");
/** The repository root. */
export const root: string = compiled ? resolve(here, "..", "..") : resolve(here, "..");

/** The runtime running this test. */
export const runtime: Runtime = detectRuntime();

/** A temporary directory, removed on dispose. */
export function tempDir(): { dir: string; path(name: string): string } & Disposable {
  const dir = mkdtempSync(join(tmpdir(), "mmstruct-test-"));
  return {
    dir,
    path: (name: string) => join(dir, name),
    [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The command line that runs `script` (a path under `tests/`, without extension) on `on`. */
export function command(on: Runtime, script: string, args: readonly string[] = []): [string, string[]] {
  const bin = (name: string) => join(root, "node_modules", ".bin", name);
  switch (on) {
    case "deno":
      return [bin("deno"), ["run", "--allow-all", "--quiet", join(root, "tests", `${script}.ts`), ...args]];
    case "bun":
      return [bin("bun"), [join(root, "tests", `${script}.ts`), ...args]];
    case "node":
      return [runtime === "node" ? process.execPath : "node", [join(root, "dist", "tests", `${script}.js`), ...args]];
  }
}

/** Runs `script` on `on` to completion. */
export function run(
  on: Runtime,
  script: string,
  args: readonly string[] = [],
  options: { timeout?: number; shellPrefix?: string } = {},
): SpawnSyncReturns<string> {
  const [file, argv] = command(on, script, args);
  const quoted = [file, ...argv].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  return options.shellPrefix === undefined
    ? spawnSync(file, argv, { encoding: "utf8", timeout: options.timeout ?? 60_000, maxBuffer: 64 << 20 })
    : spawnSync("/bin/sh", ["-c", `${options.shellPrefix}; exec ${quoted}`], {
      encoding: "utf8",
      timeout: options.timeout ?? 60_000,
    });
}

/** Starts `script` on `on` and returns the running child. */
export function start(on: Runtime, script: string, args: readonly string[] = []): ReturnType<typeof spawn> {
  const [file, argv] = command(on, script, args);
  return spawn(file, argv, { stdio: ["pipe", "pipe", "pipe"] });
}

/**
 * Reads a child's output line by line: each `next()` resolves with the next line it
 * prints, or rejects if it exits first. Attach it before the child can print.
 */
export function lines(child: ReturnType<typeof spawn>): { next(): Promise<string> } {
  let out = "";
  let err = "";
  let exited = false;
  let waiting: (() => void) | undefined;
  child.stderr!.on("data", (chunk) => err += chunk);
  child.stdout!.on("data", (chunk) => {
    out += chunk;
    waiting?.();
  });
  child.once("exit", () => {
    exited = true;
    waiting?.();
  });
  return {
    async next() {
      for (;;) {
        const newline = out.indexOf("\n");
        if (newline >= 0) {
          const line = out.slice(0, newline);
          out = out.slice(newline + 1);
          return line;
        }
        if (exited) throw new Error(`child exited with ${child.exitCode} before printing a line: ${err}`);
        await new Promise<void>((resolve) => waiting = resolve);
        waiting = undefined;
      }
    },
  };
}

/** Resolves with the first line the child prints, or rejects if it exits first. */
export function firstLine(child: ReturnType<typeof spawn>): Promise<string> {
  return lines(child).next();
}

/** Resolves with everything the child prints and its exit status. */
export function finish(
  child: ReturnType<typeof spawn>,
): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (chunk) => stdout += chunk);
    child.stderr!.on("data", (chunk) => stderr += chunk);
    child.once("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/**
 * A small seeded generator (mulberry32) of numbers in [0, 1): tests draw values from it so
 * that they are never hard-coded, and a failure reproduces from its seed.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
