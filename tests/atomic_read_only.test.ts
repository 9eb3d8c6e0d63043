import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { atomic, MappedFile } from "../mod.ts";
import { Widths } from "./fixtures/widths.ts";
import { finish, run, runtime, start, tempDir } from "./_helpers.ts";

/** A file holding `Widths` with a value in every field that its type could get wrong. */
function widthsFile(path: string): MappedFile {
  const file = MappedFile.create(path, { size: Widths.size });
  Widths.write(file, 0, {
    i8: -3,
    u8: 250,
    i16: -30_000,
    u16: 65_000,
    i32: -2_000_000_000,
    u32: 4_000_000_000,
    i64: -(2n ** 62n),
    u64: 2n ** 64n - 2n,
  });
  return file;
}

// Each runtime runs its own children: Bun's are the ones its JIT could crash or mislead.
describe("atomic() on a read-only MappedFile", () => {
  test("atomic().load() on a read-only map survives a million loads of each width", () => {
    using tmp = tempDir();
    const path = tmp.path("widths.mms");
    widthsFile(path).close();
    const child = run(runtime, "fixtures/atomic_reader", ["loads", path, "1000000"]);
    assert.equal(child.signal, null, `the reader was killed: ${child.stderr}`);
    assert.equal(child.status, 0, child.stderr);
    assert.deepEqual(JSON.parse(child.stdout), {
      i8: "-3",
      u8: "250",
      i16: "-30000",
      u16: "65000",
      i32: "-2000000000",
      u32: "4000000000",
      i64: String(-(2n ** 62n)),
      u64: String(2n ** 64n - 2n),
    });
  });

  test("atomic().load() on a read-only map sees another process's stores in an optimized loop", async () => {
    using tmp = tempDir();
    const path = tmp.path("widths.mms");
    using file = widthsFile(path);
    const field = atomic(Widths.view(file), "i32");
    // This process keeps changing the value while the reader polls it.
    const writer = setInterval(() => field.add(1), 1);
    try {
      const reader = start(runtime, "fixtures/atomic_reader", ["poll", path]);
      const result = await finish(reader);
      assert.equal(result.signal, null, result.stderr);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout.trim(), "changed", "a load was hoisted out of the polling loop");
    } finally {
      clearInterval(writer);
    }
  });

  // Evidence for ATOMIC_LOAD_MAY_WRITE (ffi/runtime.ts). If this starts failing, Bun's JIT
  // no longer writes on Atomics.load, and atomic() could load the usual way there too.
  test(
    "Atomics.load() on a read-only map kills a Bun process once the JIT optimizes it",
    { skip: runtime === "bun" ? false : "a JavaScriptCore hazard" },
    () => {
      using tmp = tempDir();
      const path = tmp.path("widths.mms");
      widthsFile(path).close();
      // Far more loads than the optimizing JIT waits for (it takes over within 100,000).
      const child = run(runtime, "fixtures/atomic_reader", ["raw", path, "1000000000"], { timeout: 120_000 });
      assert.equal(child.signal, "SIGSEGV", `status ${child.status}: ${child.stdout}${child.stderr}`);
    },
  );
});
