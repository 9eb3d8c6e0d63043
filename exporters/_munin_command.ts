/**
 * `mmstruct munin`: the munin plugin around {@linkcode toMunin}: arguments, environment,
 * `autoconf`, exit status. Internal (the command line's).
 *
 * @module
 */

import process from "node:process";
import { parseArgs } from "node:util";
import { collect } from "../metrics/collect.ts";
import { MmapError } from "../ffi/mmap_error.ts";
import { toMunin } from "./munin.ts";

/** Exit statuses, as the rest of `mmstruct`'s. */
const EXIT = { ok: 0, other: 1, usage: 2, open: 3 } as const;

const COMMANDS = new Set(["config", "autoconf", "fetch"]);

/** An environment variable, or `undefined` when unset or unreadable (Deno without `--allow-env`). */
function env(name: string): string | undefined {
  try {
    return process.env[name];
  } catch {
    return undefined;
  }
}

/** A munin capability flag, true as munin's own Perl plugins read it: set, and not `""` or `"0"`. */
function capability(name: string): boolean {
  const value = env(name);
  return value !== undefined && value !== "" && value !== "0";
}

function usage(message: string): number {
  console.error(`mmstruct: ${message}`);
  console.error("Try 'mmstruct --help'.");
  return EXIT.usage;
}

/**
 * Runs `mmstruct munin [DIR] [config|autoconf] [--plugin NAME]` and returns the exit
 * status. Without `DIR`, the directory is `$MMSTRUCT_METRICS_DIR` (munin sets it from
 * `env.MMSTRUCT_METRICS_DIR` in plugin-conf.d), else the metrics default.
 */
export function runMunin(args: readonly string[]): number {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: { plugin: { type: "string" } },
    });
  } catch (error) {
    return usage((error as Error).message);
  }
  const positionals = [...parsed.positionals];
  const command = positionals.length > 0 && COMMANDS.has(positionals.at(-1)!) ? positionals.pop()! : "fetch";
  if (positionals.length > 1) return usage(`unexpected argument "${positionals[1]}"`);
  const [dir] = positionals;
  const plugin = parsed.values.plugin;
  if (plugin === "") return usage("--plugin must not be empty");

  if (command === "autoconf") {
    // munin-node-configure reads one line and the status must be 0, whatever the answer.
    try {
      const { families } = collect(dir);
      const own = families.some((family) => !family.name.startsWith("mmstruct_") && family.series.length > 0);
      console.log(own ? "yes" : "no (no metrics in the directory yet)");
    } catch (error) {
      console.log(`no (${(error as Error).message})`);
    }
    return EXIT.ok;
  }
  let collected;
  try {
    collected = collect(dir);
  } catch (error) {
    console.error(`mmstruct: ${(error as Error).message}`);
    return error instanceof MmapError ? EXIT.open : EXIT.other;
  }
  for (const error of collected.errors) console.error(`mmstruct: skipped: ${error.message}`);
  process.stdout.write(toMunin(collected.families, {
    command: command === "config" ? "config" : "fetch",
    multigraph: capability("MUNIN_CAP_MULTIGRAPH"),
    dirtyConfig: capability("MUNIN_CAP_DIRTYCONFIG"),
    plugin,
  }));
  return EXIT.ok;
}
