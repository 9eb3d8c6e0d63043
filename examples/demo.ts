/**
 * Runs the writer and the reader side by side, unattended, and shows what each prints:
 * the reader sees every change the writer makes through the shared mapping. Then a server
 * exposes statistics in a struct file, and the `mmstruct` command, which knows nothing of
 * their layout, shows them. Last, an HTTP server with three worker processes counts its
 * requests in a metrics directory while the demo sends it requests and kills one worker
 * with SIGKILL halfway: the merged metrics still count every answered request exactly once.
 *
 *     deno run --allow-all examples/demo.ts [--only pair|struct|metrics]
 *     npm run demo                          (runs it on Node)
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { only: { type: "string" } } });
const parts = ["pair", "struct", "metrics"];
if (values.only !== undefined && !parts.includes(values.only)) {
  console.error(`demo: --only must be one of ${parts.join(", ")}, got ${JSON.stringify(values.only)}`);
  process.exit(2);
}
const part = (name: string) => values.only === undefined || values.only === name;

const dir = mkdtempSync(join(tmpdir(), "mmstruct-demo-"));
const statsPath = join(dir, "stats.mms");
const path = join(dir, "mmaptest");
const extension = import.meta.url.endsWith(".js") ? ".js" : ".ts";
const script = (name: string) => fileURLToPath(new URL(`./${name}${extension}`, import.meta.url));
const cli = fileURLToPath(new URL(`../cli${extension}`, import.meta.url));
const deno = "Deno" in globalThis;
// Deno needs its permission flags; Node and Bun run the script as it is. The metrics part
// needs them all: a directory under /dev/shm needs --allow-all on Deno (denoland/deno#30979).
const runtimeArgs = deno ? ["run", "--allow-ffi", "--allow-read", "--allow-write", "--allow-env"] : [];
const allowAll = deno ? ["run", "--allow-all"] : [];

/** Prints a child's output lines, each after its name. */
function relay(name: string, child: ChildProcess): void {
  createInterface({ input: child.stdout! }).on("line", (line) => console.log(`${name.padEnd(14)} | ${line}`));
}

function run(name: string, args: string[], path = script(name), flags = runtimeArgs): Promise<number> {
  const child = spawn(process.execPath, [...flags, path, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  relay(name, child);
  return new Promise((resolve) => child.on("close", (code) => resolve(code ?? 1)));
}

/** Part three: the metrics server, its worker processes, requests, a SIGKILL, and the merged totals. */
async function metricsDemo(): Promise<boolean> {
  // Metrics files belong on a tmpfs (on a disk, page write-back can stall the writers).
  const metricsDir = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "mmstruct-demo-"));
  const server = spawn(
    process.execPath,
    [...allowAll, script("metrics_server"), "--dir", metricsDir, "--port", "0", "--workers", "3"],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const exited = new Promise<number>((resolve) => server.on("close", (code) => resolve(code ?? 1)));
  try {
    const ready = new Promise<string | undefined>((resolve) => {
      const lines = createInterface({ input: server.stdout! });
      lines.on("line", (line) => {
        console.log(`${"metrics_server".padEnd(14)} | ${line}`);
        if (line.startsWith("listening on ")) resolve(line);
      });
      lines.on("close", () => resolve(undefined));
    });
    const line = await ready;
    const [, url, pid] = /^listening on (\S+), workers (\d+)/.exec(line ?? "") ?? [];
    if (url === undefined) {
      console.error("demo failed: the metrics server did not start");
      return false;
    }
    const client = await run("metrics_client", ["--url", url, "--dir", metricsDir, "--kill", pid], undefined, allowAll);
    const shown = await run("mmstruct", ["metrics", metricsDir], cli, allowAll);
    // process.kill, not server.kill: Deno's ChildProcess.kill() reports the child as killed
    // by the signal even when it handles it and exits with status 0.
    process.kill(server.pid!, "SIGTERM");
    const stopped = await exited;
    if (client !== 0 || shown !== 0 || stopped !== 0) {
      console.error(`demo failed: client exited with ${client}, mmstruct with ${shown}, the server with ${stopped}`);
      return false;
    }
    return true;
  } finally {
    if (server.exitCode === null && server.signalCode === null) server.kill("SIGTERM");
    rmSync(metricsDir, { recursive: true, force: true });
  }
}

try {
  if (part("pair")) {
    const writer = run("writer", ["--path", path, "--auto", "700", "--then", "42"]);
    const reader = run("reader", ["--path", path, "--interval", "50", "--until", "42", "--timeout", "10000"]);
    const [writerCode, readerCode] = await Promise.all([writer, reader]);
    if (writerCode !== 0 || readerCode !== 0) {
      console.error(`demo failed: writer exited with ${writerCode}, reader with ${readerCode}`);
      process.exitCode = 1;
    } else {
      console.log("demo: the reader saw every change the writer made through the shared mapping");
    }
  }
  // Part two: a self-describing struct file, read by a tool that has never seen its layout.
  if (part("struct")) {
    if (values.only === undefined) console.log();
    if (await run("struct_writer", ["--path", statsPath, "--requests", "50", "--interval", "2"]) !== 0) {
      process.exitCode = 1;
    }
    if (await run("mmstruct", ["show", statsPath], cli) !== 0) process.exitCode = 1;
  }
  if (part("metrics")) {
    if (values.only === undefined) console.log();
    if (await metricsDemo()) {
      console.log("demo: every worker counted in its own file; the killed one's counts were neither lost nor doubled");
    } else {
      process.exitCode = 1;
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
