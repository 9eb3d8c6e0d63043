#!/usr/bin/env node
/**
 * Takes docs/top.png and docs/watch.png from the real programs: `mmstruct top` and
 * `mmstruct watch` (the built `dist/cli.js`) run in a tmux pane while writers update a
 * metrics directory; the pane is captured with its colours (`tmux capture-pane -e -p`),
 * turned into HTML, and rendered by headless Chromium.
 *
 *     npm run build && node tools/screenshots.mjs
 *
 * Needs Debian's `tmux` and `chromium`. The values are the same at every run; only the
 * clock in the header, the pids and the ages differ.
 *
 * @module
 */

import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const { Metrics, StructFile, struct, u32, u64, f64 } = await import(join(root, "dist", "mod.js"));
const cli = join(root, "dist", "cli.js");
const socket = `mmstruct-shots-${process.pid}`;
const WIDTH = 110;
const HEIGHT = 22;

function tmux(...args) {
  const result = spawnSync("tmux", ["-L", socket, "-f", "/dev/null", ...args], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`tmux ${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
}

async function waitFor(test) {
  for (let i = 0; i < 600; i++) {
    const screen = tmux("capture-pane", "-p");
    if (test(screen)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the screen never showed what was expected:\n${tmux("capture-pane", "-p")}`);
}

/** xterm's first 16 colours, as the Tango theme has them. */
const COLOURS = [
  "#2e3436",
  "#cc0000",
  "#4e9a06",
  "#c4a000",
  "#3465a4",
  "#75507b",
  "#06989a",
  "#d3d7cf",
  "#555753",
  "#ef2929",
  "#8ae234",
  "#fce94f",
  "#729fcf",
  "#ad7fa8",
  "#34e2e2",
  "#eeeeec",
];
const FG = "#d3d7cf";
const BG = "#1e1e1e";

/** A capture with SGR sequences (the only ones `capture-pane -e` writes) as HTML spans. */
function toHtml(text) {
  const escape = (s) => s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
  let state = { bold: false, dim: false, inverse: false, fg: undefined };
  let html = "";
  // deno-lint-ignore no-control-regex
  for (const part of text.split(/(\x1b\[[0-9;]*m)/)) {
    // deno-lint-ignore no-control-regex
    const sgr = /^\x1b\[([0-9;]*)m$/.exec(part);
    if (sgr === null) {
      if (part === "") continue;
      let fg = state.fg ?? FG;
      let bg = BG;
      if (state.inverse) [fg, bg] = [bg, fg];
      const style = [`color:${fg}`, `background:${bg}`];
      if (state.bold) style.push("font-weight:bold");
      if (state.dim) style.push("opacity:0.6");
      html += `<span style="${style.join(";")}">${escape(part)}</span>`;
      continue;
    }
    const codes = sgr[1] === "" ? [0] : sgr[1].split(";").map(Number);
    for (const code of codes) {
      if (code === 0) state = { bold: false, dim: false, inverse: false, fg: undefined };
      else if (code === 1) state.bold = true;
      else if (code === 2) state.dim = true;
      else if (code === 22) state.bold = state.dim = false;
      else if (code === 7) state.inverse = true;
      else if (code === 27) state.inverse = false;
      else if (code >= 30 && code <= 37) state.fg = COLOURS[code - 30 + (state.bold ? 8 : 0)];
      else if (code >= 90 && code <= 97) state.fg = COLOURS[code - 90 + 8];
      else if (code === 39) state.fg = undefined;
    }
  }
  return `<!doctype html><meta charset="utf-8"><style>body{margin:0;background:${BG}}` +
    `pre{margin:0;padding:12px;font:15px/1.3 "DejaVu Sans Mono",monospace;color:${FG}}</style>` +
    `<pre>${html}</pre>`;
}

/** Runs `command` in a fresh pane, waits for `ready`, and saves the pane as `png`. */
async function shoot(command, ready, png, dir) {
  tmux("new-session", "-d", "-x", String(WIDTH), "-y", String(HEIGHT), command);
  try {
    await waitFor(ready);
    // A few refreshes, so that rates are of steady work.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const html = join(dir, "shot.html");
    writeFileSync(html, toHtml(tmux("capture-pane", "-e", "-p")));
    const result = spawnSync("chromium", [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--hide-scrollbars",
      `--screenshot=${png}`,
      `--window-size=${WIDTH * 9 + 24},${HEIGHT * 20 + 24}`,
      `file://${html}`,
    ], { encoding: "utf8" });
    if (result.status !== 0) throw new Error(`chromium failed: ${result.stderr}`);
    console.log(`wrote ${png}`);
  } finally {
    tmux("kill-server");
  }
}

const dir = mkdtempSync(join(tmpdir(), "mmstruct-shots-"));
const metricsDir = join(dir, "metrics");
let child;
try {
  const metrics = Metrics.create(metricsDir, { name: "web" });
  // A writer that has gone (killed), besides this one: the view counts both.
  child = spawn(process.execPath, [
    "--input-type=module",
    "-e",
    `
    const { Metrics } = await import(${JSON.stringify(join(root, "dist", "mod.js"))});
    const m = Metrics.create(${JSON.stringify(metricsDir)}, { name: "worker" });
    m.counter({ name: "jobs_total", help: "Jobs done", labelNames: ["queue"] }).labels({ queue: "email" }).inc(1200);
    console.log("ready");
    setInterval(() => {}, 1000);
  `,
  ], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise((resolve) => child.stdout.once("data", resolve));
  child.kill("SIGKILL");

  const requests = metrics.counter({ name: "http_requests_total", help: "Requests", labelNames: ["method", "code"] });
  const seconds = metrics.histogram({
    name: "http_request_seconds",
    help: "Request time",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
  });
  const jobs = metrics.counter({ name: "jobs_total", help: "Jobs done", labelNames: ["queue"] });
  const inFlight = metrics.gauge({ name: "http_requests_in_flight", help: "Requests being served" });
  const Stats = struct({ connections: u32, bytes_in: u64, bytes_out: u64, load: f64 });
  const stats = StructFile.create(join(metricsDir, "server.mms"), Stats, { initial: { connections: 12, load: 0.42 } });
  // Steady, deterministic work: the same pattern every tick.
  let tick = 0;
  const timer = setInterval(() => {
    tick++;
    requests.labels({ method: "GET", code: "200" }).inc(9);
    requests.labels({ method: "POST", code: "201" }).inc(2);
    if (tick % 5 === 0) requests.labels({ method: "GET", code: "404" }).inc();
    if (tick % 20 === 0) requests.labels({ method: "POST", code: "500" }).inc();
    for (let i = 0; i < 11; i++) seconds.observe(0.002 + ((i * 37 + tick) % 100) / 400);
    jobs.labels({ queue: "email" }).inc(3);
    jobs.labels({ queue: "reports" }).inc(tick % 3 === 0 ? 1 : 0);
    inFlight.set(3 + (tick % 4));
    stats.update((v) => {
      v.bytes_in += 4096n;
      v.bytes_out += 65536n;
    });
  }, 100);
  try {
    await shoot(
      `node ${cli} top ${metricsDir} --interval 500`,
      (s) => s.includes("http_requests_total"),
      join(root, "docs", "top.png"),
      dir,
    );
    // A struct file whose writer has exited: watch says so.
    const gone = join(dir, "gone.mms");
    const writer = spawnSync(process.execPath, [
      "--input-type=module",
      "-e",
      `
      const { StructFile, struct, u32, u64, f64 } = await import(${JSON.stringify(join(root, "dist", "mod.js"))});
      const Stats = struct({ connections: u32, bytes_in: u64, bytes_out: u64, load: f64 });
      const f = StructFile.create(${
        JSON.stringify(gone)
      }, Stats, { initial: { connections: 7, bytes_in: 81920n, bytes_out: 1310720n, load: 0.93 } });
      f.update((v) => v.connections = 8);
    `,
    ], { stdio: "inherit" });
    if (writer.status !== 0) throw new Error("the struct file writer failed");
    await shoot(`node ${cli} watch ${gone}`, (s) => s.includes("has exited"), join(root, "docs", "watch.png"), dir);
  } finally {
    clearInterval(timer);
    stats.close();
    metrics.close();
  }
} finally {
  child?.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
}
