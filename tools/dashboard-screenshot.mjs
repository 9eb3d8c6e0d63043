#!/usr/bin/env node
/**
 * Takes `docs/dashboard.png`, the README's picture of the dashboard of `mmstruct serve`,
 * from the real programs: `mmstruct serve` on a temporary metrics directory, writers
 * (`tests/fixtures/dashboard_writer`) counting into it, one of them killed so that the page
 * shows a dead writer, and Debian's Chromium (driven by playwright-core) looking at it.
 * Needs `npm run build` first (it runs the Node build in `dist/`).
 *
 *     node tools/dashboard-screenshot.mjs [--out FILE] [--seconds S]
 *     node tools/dashboard-screenshot.mjs --measure SERIES
 *
 * `--measure SERIES` takes no picture: one writer with about SERIES series, and the page's
 * cost over 10 s: how long each update took (the page's `mmstruct-update` performance
 * measures) and the longest gaps between animation frames (what a reader feels as a freeze),
 * then the same gaps on a page that does nothing, for the share of the machine's own load.
 *
 * @module
 */

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const { values } = parseArgs({
  options: {
    out: { type: "string", default: join(root, "docs", "dashboard.png") },
    seconds: { type: "string", default: "20" },
    measure: { type: "string" },
  },
});
const cli = join(root, "dist", "cli.js");
const fixture = join(root, "dist", "tests", "fixtures", "dashboard_writer.js");
if (!existsSync(cli) || !existsSync(fixture)) {
  console.error("dashboard-screenshot: run npm run build first");
  process.exit(1);
}

/** Starts `node FILE ARGS`, resolving once it prints its first line (returned with the child). */
function start(file, args) {
  const child = spawn(process.execPath, [file, ...args], { stdio: ["pipe", "pipe", "inherit"] });
  const first = new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      if (out.includes("\n")) resolve(out.slice(0, out.indexOf("\n")));
    });
    child.once("exit", (code) => reject(new Error(`${file} exited with ${code} before printing a line`)));
  });
  return first.then((line) => ({ child, line }));
}

const dir = mkdtempSync(join(tmpdir(), "mmstruct-dashboard-"));
const children = [];
let browser;
try {
  const writers = values.measure === undefined
    ? [["api-1", "60"], ["api-2", "60"], ["batch", "20"]]
    : [["load", values.measure]];
  for (const [name, series] of writers) {
    children.push((await start(fixture, [dir, name, "load", series])).child);
  }
  const serve = await start(cli, ["serve", dir, "--listen", "127.0.0.1:0", "--compact-interval", "0"]);
  children.push(serve.child);
  const origin = /listening on (http:\/\/[^/\s]+)\//.exec(serve.line)[1];
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  page.on("pageerror", (error) => console.error(`dashboard-screenshot: page error: ${error.message}`));
  await page.goto(`${origin}/`);

  if (values.measure !== undefined) {
    await page.waitForFunction(() => performance.getEntriesByName("mmstruct-update").length > 0);
    /** Gaps between animation frames over 10 s, longest first. */
    const frameGaps = () =>
      page.evaluate(() =>
        new Promise((resolve) => {
          const gaps = [];
          let last = performance.now();
          const end = last + 10_000;
          const frame = (t) => {
            gaps.push(t - last);
            last = t;
            if (t < end) requestAnimationFrame(frame);
            else resolve(gaps.sort((a, b) => b - a));
          };
          requestAnimationFrame(frame);
        })
      );
    const gaps = await frameGaps();
    const updates = await page.evaluate(() =>
      performance.getEntriesByName("mmstruct-update").map((entry) => entry.duration)
    );
    const rows = await page.evaluate(() => document.querySelectorAll("[data-labels]").length);
    const later = updates.slice(1).sort((a, b) => a - b);
    const ms = (x) => `${x.toFixed(1)} ms`;
    console.log(`${rows} series on the page, ${updates.length} updates`);
    console.log(
      `update: first ${ms(updates[0])} (builds the rows), then median ${ms(later[later.length >> 1])}, ` +
        `max ${ms(later.at(-1))}`,
    );
    console.log(`frames in 10 s: ${gaps.length}, longest gaps ${gaps.slice(0, 3).map(ms).join(", ")}`);
    // The same on a page that does nothing: what the machine's load alone costs.
    await page.goto(`${origin}/healthz`);
    const idle = await frameGaps();
    console.log(`an idle page, meanwhile: ${idle.length} frames, longest gaps ${idle.slice(0, 3).map(ms).join(", ")}`);
  } else {
    // The batch job dies: the page shows it as dead (its counts kept, its gauges gone).
    await new Promise((resolve) => setTimeout(resolve, Number(values.seconds) * 500));
    children[2].kill("SIGKILL");
    await page.waitForFunction(() => /1 dead/.test(document.querySelector("#writers").textContent));
    await new Promise((resolve) => setTimeout(resolve, Number(values.seconds) * 500));
    await page.screenshot({ path: values.out });
    console.log(`dashboard-screenshot: wrote ${values.out}`);
  }
} finally {
  await browser?.close();
  for (const child of children) {
    child.stdin.end();
    child.kill("SIGTERM");
  }
  const exited = (child) => child.exitCode !== null || child.signalCode !== null;
  await Promise.all(children.map((child) => exited(child) || new Promise((resolve) => child.once("exit", resolve))));
  rmSync(dir, { recursive: true, force: true });
}
