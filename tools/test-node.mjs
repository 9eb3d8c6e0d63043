#!/usr/bin/env node
/**
 * `npm run test:node`: runs the compiled tests (`dist/tests/*.test.js`, from `npm run build`)
 * with `node --test --test-concurrency=1` on each Node version pinned in
 * `tools/node-versions/package.json`, one after the other.
 *
 *     node tools/test-node.mjs [FILE...]
 *
 * FILE defaults to every test file. The files are listed here rather than passing the folder,
 * because Node 22 and later take `--test` arguments as files or globs, not folders. Where a
 * pinned binary is not installed (npm skips them on platforms without one, such as macOS),
 * one line says which version was skipped and why, and the tests run once on the `node` that
 * runs this script instead. Exits with 1 if any run failed.
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { pinnedNodes } from "./node-versions/index.mjs";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const testDir = join(root, "dist", "tests");

if (!existsSync(testDir)) {
  console.error(`test-node: ${relative(root, testDir)} does not exist: run "npm run build" first`);
  process.exit(1);
}
const files = process.argv.length > 2 ? process.argv.slice(2) : readdirSync(testDir)
  .filter((name) => name.endsWith(".test.js"))
  .sort()
  .map((name) => join(testDir, name));

/** The binaries to run on: each pinned one installed, or else (once) the `node` running this script. */
const runs = [];
for (const node of pinnedNodes()) {
  if (node.path !== undefined) {
    runs.push({ label: `Node ${node.version}`, path: node.path });
  } else {
    console.log(`test-node: skipped Node ${node.version}: ${node.reason}; using ${process.execPath} instead`);
    if (!runs.some((run) => run.path === process.execPath)) {
      runs.push({ label: `Node ${process.versions.node} (the node running this script)`, path: process.execPath });
    }
  }
}

const failed = [];
for (const { label, path } of runs) {
  console.log(`test-node: ${label}: ${path} --test --test-concurrency=1 (${files.length} files)`);
  const result = spawnSync(path, ["--test", "--test-concurrency=1", ...files], { cwd: root, stdio: "inherit" });
  if (result.error !== undefined) {
    console.error(`test-node: ${label}: cannot run ${path}: ${result.error.message}`);
    failed.push(label);
  } else if (result.status !== 0) {
    failed.push(`${label} (${result.signal ?? `exit status ${result.status}`})`);
  }
}
if (failed.length > 0) {
  console.error(`test-node: failed on ${failed.join(", ")}`);
  process.exit(1);
}
console.log(`test-node: passed on ${runs.map((run) => run.label).join(", ")}`);
