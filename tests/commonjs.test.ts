/**
 * CommonJS: `require("mmstruct")` must work (Node ≥ 20.19 and ≥ 22.12 load ES modules with
 * `require`, Bun always has), which it cannot if any module of the library has a top-level
 * `await`. These tests run the built package (`dist/`, from `npm run build`) on every runtime.
 *
 * @module
 */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join, relative } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { root, tempDir } from "./_helpers.ts";

/** A Node version pinned in `tools/node-versions/package.json` (see `index.mjs` there). */
interface PinnedNode {
  version: string;
  path: string | undefined;
  reason: string | undefined;
}
const { pinnedNodes } = await import(pathToFileURL(join(root, "tools", "node-versions", "index.mjs")).href) as {
  pinnedNodes(): PinnedNode[];
};

const dist = join(root, "dist");
const built = existsSync(join(dist, "mod.js")) ? undefined : "dist/mod.js is missing: run npm run build first";

/** Every module of the library in `dist/`: all but the tests, benchmarks and examples. */
function libraryModules(dir = dist): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return ["tests", "bench", "examples"].includes(entry.name) ? [] : libraryModules(path);
    return entry.name.endsWith(".js") ? [path] : [];
  });
}

test("require() loads every module of the library: none has a top-level await", { skip: built }, () => {
  const modules = libraryModules();
  const names = modules.map((path) => relative(dist, path));
  assert.ok(names.includes("mod.js") && names.includes("cli.js") && names.includes(join("ffi", "libc.js")), `${names}`);
  const require = createRequire(import.meta.url);
  for (const path of modules) {
    assert.doesNotThrow(() => require(path), `require("${relative(root, path)}")`);
  }
  assert.equal(typeof require(join(dist, "mod.js")).MappedFile.create, "function");
});

/** Runs `tests/fixtures/require.cjs` on `binary` and checks that it read back what it wrote. */
function requireFromCommonJS(binary: string, expectedRuntime: RegExp): void {
  using tmp = tempDir();
  // Values the test cannot get right by chance: a u64 past 2^53, and numbers from this process.
  const requests = String(2n ** 60n + BigInt(process.pid));
  const errors = process.pid % 100_000;
  const lastPath = `/api/${process.pid}`;
  const child = spawnSync(
    binary,
    [join(root, "tests", "fixtures", "require.cjs"), tmp.path("stats.mms"), requests, String(errors), lastPath],
    { encoding: "utf8", timeout: 60_000 },
  );
  assert.equal(child.status, 0, `${binary} exited with ${child.status ?? child.signal}: ${child.stderr}`);
  const { runtime, ...read } = JSON.parse(child.stdout);
  assert.match(runtime, expectedRuntime);
  assert.deepEqual(read, { requests, errors, last_path: lastPath });
}

const nodes = pinnedNodes();
for (const node of nodes) {
  test(
    `require("mmstruct") from a .cjs file maps, writes and reads back a struct on Node ${node.version}`,
    { skip: built ?? (node.path === undefined ? `Node ${node.version} skipped: ${node.reason}` : undefined) },
    () => requireFromCommonJS(node.path!, new RegExp(`^node ${node.version.replaceAll(".", "\\.")}$`)),
  );
}
if (nodes.some((node) => node.path === undefined)) {
  test(
    `require("mmstruct") from a .cjs file maps, writes and reads back a struct on the node on PATH`,
    { skip: built },
    () => requireFromCommonJS("node", /^node \d+\.\d+\.\d+$/),
  );
}

test(
  `require("mmstruct") from a .cjs file maps, writes and reads back a struct on Bun`,
  { skip: built },
  () => requireFromCommonJS(join(root, "node_modules", ".bin", "bun"), /^bun \d+\.\d+\.\d+$/),
);
