/**
 * Runs the writer and the reader side by side, unattended, and shows what each prints:
 * the reader sees every change the writer makes through the shared mapping. Then a server
 * exposes statistics in a struct file, and the `mmstruct` command, which knows nothing of
 * their layout, shows them.
 *
 *     deno run --allow-all examples/demo.ts      (npm run demo runs it on Node)
 *
 * @module
 */

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const dir = mkdtempSync(join(tmpdir(), "mmstruct-demo-"));
const statsPath = join(dir, "stats.mms");
const path = join(dir, "mmaptest");
const script = (name: string) =>
  fileURLToPath(new URL(`./${name}${import.meta.url.endsWith(".js") ? ".js" : ".ts"}`, import.meta.url));
// Deno needs its permission flags; Node and Bun run the script as it is.
const runtimeArgs = "Deno" in globalThis ? ["run", "--allow-ffi", "--allow-read", "--allow-write", "--allow-env"] : [];

function run(name: string, args: string[], path = script(name)): Promise<number> {
  const child = spawn(process.execPath, [...runtimeArgs, path, ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  child.stdout.setEncoding("utf8");
  let pending = "";
  child.stdout.on("data", (chunk: string) => {
    pending += chunk;
    const lines = pending.split("\n");
    pending = lines.pop()!;
    for (const line of lines) console.log(`${name.padEnd(13)} | ${line}`);
  });
  return new Promise((resolve) => child.on("close", (code) => resolve(code ?? 1)));
}

try {
  const writer = run("writer", ["--path", path, "--auto", "700", "--then", "42"]);
  const reader = run("reader", ["--path", path, "--interval", "50", "--until", "42", "--timeout", "10000"]);
  const [writerCode, readerCode] = await Promise.all([writer, reader]);
  if (writerCode !== 0 || readerCode !== 0) {
    console.error(`demo failed: writer exited with ${writerCode}, reader with ${readerCode}`);
    process.exitCode = 1;
  } else {
    console.log("demo: the reader saw every change the writer made through the shared mapping");
  }
  // Part two: a self-describing struct file, read by a tool that has never seen its layout.
  console.log();
  if (await run("struct_writer", ["--path", statsPath, "--requests", "50", "--interval", "2"]) !== 0) {
    process.exitCode = 1;
  }
  const cli = fileURLToPath(new URL(`../cli${import.meta.url.endsWith(".js") ? ".js" : ".ts"}`, import.meta.url));
  if (await run("mmstruct", ["show", statsPath], cli) !== 0) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
