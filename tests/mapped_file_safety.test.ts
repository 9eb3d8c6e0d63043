/**
 * What another user can prepare: symlinked, foreign or shared directories, symlinks planted
 * at a path opened for writing; the file-size limit; `flock` locks held by a handle.
 *
 * The tests run as root and play "another user" by `chown`ing to uid 65534 (nobody), or
 * by running a child as nobody with `setpriv`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { describe, test } from "node:test";
import { ensurePrivateDirectory, MappedFile, MmapError } from "../mod.ts";
import { createMappedFile } from "../mapped_file.ts";
import { libc } from "../ffi/libc.ts";
import { errnoName } from "../ffi/errno.ts";
import { command, finish, firstLine, run, runtime, start, tempDir } from "./_helpers.ts";

const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;
const needsRoot = { skip: isRoot ? false : "needs root, to chown to another user" };
const hasSetpriv = isRoot && spawnSync("setpriv", ["--version"]).status === 0;

/** A validation function for `assert.throws`: an MmapError with `code` whose message matches. */
function refused(code: string, message?: RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof MmapError, `expected an MmapError, got ${error}`);
    assert.equal(error.code, code, error.message);
    if (message !== undefined) assert.match(error.message, message);
    return true;
  };
}

/** A directory inside `parent` with the given mode (and owner), exactly: chmod ignores the umask. */
function directory(parent: string, name: string, mode: number, uid?: number): string {
  const path = join(parent, name);
  mkdirSync(path);
  if (uid !== undefined) chownSync(path, uid, uid);
  chmodSync(path, mode);
  return path;
}

describe("MappedFile.create() and the directory it publishes into", () => {
  test("MappedFile.create() refuses a parent directory that is a symlink, and creates nothing", () => {
    using tmp = tempDir();
    const real = directory(tmp.dir, "real", 0o700);
    symlinkSync(real, tmp.path("link"));
    assert.throws(
      () => MappedFile.create(join(tmp.path("link"), "a.mms"), { size: 8 }),
      refused("ELOOP", /the directory ".*link" is a symbolic link/),
    );
    assert.deepEqual(readdirSync(real), []);
  });

  test("MappedFile.create() refuses a symlinked parent written as link/, link/. or link//", () => {
    using tmp = tempDir();
    const real = directory(tmp.dir, "real", 0o700);
    symlinkSync(real, tmp.path("link"));
    for (const path of ["link/./a.mms", "link//a.mms", "link/.//./a.mms"]) {
      assert.throws(() => MappedFile.create(join(tmp.dir, "") + "/" + path, { size: 8 }), refused("ELOOP"), path);
    }
    assert.deepEqual(readdirSync(real), []);
  });

  test("MappedFile.create() follows symlinks above the parent directory", () => {
    using tmp = tempDir();
    directory(tmp.dir, "sub", 0o700);
    symlinkSync(tmp.dir, tmp.path("up"));
    // As /var/run -> /run: only the directory that holds the file is checked.
    MappedFile.create(join(tmp.path("up"), "sub", "a.mms"), { size: 8 }).close();
    assert.deepEqual(readdirSync(tmp.path("sub")), ["a.mms"]);
  });

  test("MappedFile.create() refuses a directory owned by another user, sticky or not", needsRoot, () => {
    using tmp = tempDir();
    for (const mode of [0o700, 0o755, 0o1777]) {
      const dir = directory(tmp.dir, `d${mode.toString(8)}`, mode, NOBODY);
      assert.throws(
        () => MappedFile.create(join(dir, "a.mms"), { size: 8 }),
        refused("EPERM", /belongs to user 65534, not to this user \(0\) or root/),
      );
      assert.deepEqual(readdirSync(dir), []);
    }
  });

  test("MappedFile.create() refuses a directory writable by its group or others without the sticky bit", () => {
    using tmp = tempDir();
    for (const mode of [0o777, 0o770, 0o730, 0o702]) {
      const dir = directory(tmp.dir, `d${mode.toString(8)}`, mode);
      assert.throws(
        () => MappedFile.create(join(dir, "a.mms"), { size: 8 }),
        refused("EPERM", new RegExp(`is writable by other users \\(mode 0o${mode.toString(8)}\\) and not sticky`)),
      );
      assert.deepEqual(readdirSync(dir), []);
    }
  });

  test("MappedFile.create() accepts a sticky directory others may write to, as /tmp", () => {
    using tmp = tempDir();
    for (const mode of [0o1777, 0o1770]) {
      const dir = directory(tmp.dir, `d${mode.toString(8)}`, mode);
      MappedFile.create(join(dir, "a.mms"), { size: 8 }).close();
      assert.deepEqual(readdirSync(dir), ["a.mms"]);
    }
  });

  test("MappedFile.create() accepts a file directly in /tmp", () => {
    const path = join("/tmp", `mmstruct-safety-${process.pid}-${Math.random().toString(36).slice(2)}.mms`);
    try {
      using file = MappedFile.create(path, { size: 8 });
      assert.equal(statSync(path).size, 8);
      assert.equal(file.byteLength, 8);
    } finally {
      rmSync(path, { force: true });
    }
  });

  test(
    "MappedFile.create({ unsafeAllowAnyDirectory }) publishes into a symlinked, shared, foreign directory",
    needsRoot,
    () => {
      using tmp = tempDir();
      const dir = directory(tmp.dir, "shared", 0o777, NOBODY);
      symlinkSync(dir, tmp.path("link"));
      const path = join(tmp.path("link"), "a.mms");
      MappedFile.create(path, { size: 8, unsafeAllowAnyDirectory: true }).close();
      assert.deepEqual(readdirSync(dir), ["a.mms"]);
      // The opt-out is per call: without it, the same directory is refused.
      assert.throws(() => MappedFile.create(join(dir, "b.mms"), { size: 8 }), refused("EPERM"));
    },
  );

  test("MappedFile.create() and open({ write }) refuse a path that names a directory", () => {
    using tmp = tempDir();
    const dir = directory(tmp.dir, "d", 0o700);
    for (const path of [`${dir}/`, `${dir}/.`, `${dir}/..`]) {
      assert.throws(() => MappedFile.create(path, { size: 8 }), refused("EISDIR", /names a directory/), path);
      assert.throws(() => MappedFile.open(path, { write: true }), refused("EISDIR"), path);
    }
    assert.deepEqual(readdirSync(tmp.dir), ["d"]);
    assert.deepEqual(readdirSync(dir), []);
  });

  test("MappedFile.create() run by another user: root's sticky directory is fine, another user's is not", {
    skip: hasSetpriv ? false : "needs root and setpriv",
  }, () => {
    using tmp = tempDir();
    chmodSync(tmp.dir, 0o755); // so that nobody can reach the directories below
    const cases = [
      { dir: directory(tmp.dir, "root-sticky", 0o1777, 0), ok: true },
      { dir: directory(tmp.dir, "own", 0o700, NOBODY), ok: true },
      { dir: directory(tmp.dir, "root-shared", 0o777, 0), ok: false, message: /writable by other users/ },
      { dir: directory(tmp.dir, "other-sticky", 0o1777, NOBODY - 1), ok: false, message: /belongs to user 65533/ },
    ];
    const denoDir = directory(tmp.dir, "deno-dir", 0o700, NOBODY);
    for (const { dir, ok, message } of cases) {
      const outcome = asNobody(denoDir, "create", join(dir, "a.mms"), { size: 8 });
      assert.equal(outcome.ok, ok, `${dir}: ${outcome.message}`);
      if (!ok) {
        assert.equal(outcome.code, "EPERM");
        assert.match(outcome.message, message!);
      }
    }
    // A file opened for writing must be the user's own; root is not excepted there.
    const own = cases[1].dir;
    writeFileSync(join(own, "root.mms"), new Uint8Array(8));
    chmodSync(join(own, "root.mms"), 0o666);
    const outcome = asNobody(denoDir, "open", join(own, "root.mms"), { write: true });
    assert.equal(outcome.code, "EPERM", outcome.message);
    assert.match(outcome.message, /the file belongs to user 0, not to this user \(65534\)/);
  });
});

/** Runs the safety child as uid 65534 and returns the outcome it prints. */
function asNobody(denoDir: string, commandName: string, path: string, options: object) {
  const [file, argv] = command(runtime, "fixtures/safety_child", [commandName, path, JSON.stringify(options)]);
  const child = spawnSync(
    "setpriv",
    [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", "env", `DENO_DIR=${denoDir}`, file, ...argv],
    { encoding: "utf8", timeout: 60_000 },
  );
  assert.equal(child.status, 0, child.stderr);
  return JSON.parse(child.stdout) as { ok: boolean; code?: string; message: string };
}

describe("MappedFile.open({ write }) and what is at the path", () => {
  test("MappedFile.open({ write }) refuses a symlink at the path; a read-only open follows it", () => {
    using tmp = tempDir();
    const target = tmp.path("target");
    writeFileSync(target, new Uint8Array([1, 2, 3, 4]));
    const path = tmp.path("a.mms");
    symlinkSync(target, path);
    assert.throws(
      () => MappedFile.open(path, { write: true }),
      refused("ELOOP", /is a symbolic link, which is not followed when opening for writing/),
    );
    assert.throws(() => MappedFile.open(path, { write: true, unsafeAllowAnyDirectory: true }), refused("ELOOP"));
    using reader = MappedFile.open(path);
    assert.deepEqual([...new Uint8Array(reader.buffer)], [1, 2, 3, 4]);
    // A private mapping never writes to the file, so it may follow the link too.
    using copy = MappedFile.open(path, { write: true, private: true });
    new Uint8Array(copy.buffer)[0] = 9;
    assert.deepEqual([...readFileSync(target)], [1, 2, 3, 4]);
  });

  test("MappedFile.open({ write }) refuses a file owned by another user", needsRoot, () => {
    using tmp = tempDir();
    const path = tmp.path("a.mms");
    writeFileSync(path, new Uint8Array(8));
    chownSync(path, NOBODY, NOBODY);
    assert.throws(
      () => MappedFile.open(path, { write: true }),
      refused("EPERM", /the file belongs to user 65534, not to this user \(0\)/),
    );
    MappedFile.open(path).close();
    using shared = MappedFile.open(path, { write: true, unsafeAllowAnyDirectory: true });
    assert.equal(shared.writable, true);
  });

  test("MappedFile.open({ write }) refuses a file in a directory others may write to, or behind a symlinked parent", () => {
    using tmp = tempDir();
    const dir = directory(tmp.dir, "shared", 0o777);
    writeFileSync(join(dir, "a.mms"), new Uint8Array(8));
    assert.throws(() => MappedFile.open(join(dir, "a.mms"), { write: true }), refused("EPERM", /writable by other/));
    chmodSync(dir, 0o700);
    symlinkSync(dir, tmp.path("link"));
    const path = join(tmp.path("link"), "a.mms");
    assert.throws(() => MappedFile.open(path, { write: true }), refused("ELOOP", /is a symbolic link/));
    MappedFile.open(path).close();
    MappedFile.open(path, { write: true, unsafeAllowAnyDirectory: true }).close();
  });
});

describe("ensurePrivateDirectory()", () => {
  test("ensurePrivateDirectory() makes a missing directory and its parents 0700, whatever the umask", () => {
    using tmp = tempDir();
    const path = join(tmp.dir, "a", "b");
    // umask 277 would leave mkdir(0700) at 0500: a directory the user could not write to.
    const child = run(runtime, "fixtures/safety_child", ["ensure", path], { shellPrefix: "umask 277" });
    assert.equal(child.status, 0, child.stderr);
    assert.deepEqual(JSON.parse(child.stdout), { ok: true });
    assert.equal(statSync(join(tmp.dir, "a")).mode & 0o7777, 0o700);
    assert.equal(statSync(path).mode & 0o7777, 0o700);
    assert.ok(statSync(path).isDirectory());
  });

  test("ensurePrivateDirectory() accepts an existing directory only this user may write to, and leaves it as it is", () => {
    using tmp = tempDir();
    for (const mode of [0o700, 0o750, 0o755]) {
      const dir = directory(tmp.dir, `d${mode.toString(8)}`, mode);
      writeFileSync(join(dir, "keep"), "me");
      ensurePrivateDirectory(dir);
      ensurePrivateDirectory(`${dir}/`);
      assert.equal(statSync(dir).mode & 0o7777, mode);
      assert.deepEqual(readdirSync(dir), ["keep"]);
    }
  });

  test("ensurePrivateDirectory() refuses a symlink, even to a private directory", () => {
    using tmp = tempDir();
    const real = directory(tmp.dir, "real", 0o700);
    symlinkSync(real, tmp.path("link"));
    assert.throws(() => ensurePrivateDirectory(tmp.path("link")), refused("ELOOP", /is a symbolic link/));
    symlinkSync(tmp.path("missing"), tmp.path("dangling"));
    assert.throws(() => ensurePrivateDirectory(tmp.path("dangling")), MmapError);
    assert.equal(existsSync(tmp.path("missing")), false);
  });

  test("ensurePrivateDirectory() refuses a directory owned by another user", needsRoot, () => {
    using tmp = tempDir();
    const dir = directory(tmp.dir, "theirs", 0o700, NOBODY);
    assert.throws(
      () => ensurePrivateDirectory(dir),
      refused("EPERM", /belongs to user 65534, not to this user \(0\)$/),
    );
  });

  test("ensurePrivateDirectory() refuses a directory its group or others may write to, sticky or not", () => {
    using tmp = tempDir();
    for (const mode of [0o770, 0o777, 0o1777, 0o702]) {
      const dir = directory(tmp.dir, `d${mode.toString(8)}`, mode);
      assert.throws(() => ensurePrivateDirectory(dir), refused("EPERM", /is writable by other users/), String(mode));
      assert.equal(statSync(dir).mode & 0o7777, mode);
    }
  });

  test("ensurePrivateDirectory() refuses a file", () => {
    using tmp = tempDir();
    writeFileSync(tmp.path("file"), "");
    assert.throws(() => ensurePrivateDirectory(tmp.path("file")), refused("ENOTDIR"));
    assert.throws(() => ensurePrivateDirectory(join(tmp.path("file"), "sub")), refused("ENOTDIR"));
  });

  test("ensurePrivateDirectory() refuses a directory inside one others may write to, unless it is sticky", () => {
    using tmp = tempDir();
    const shared = directory(tmp.dir, "shared", 0o777);
    assert.throws(() => ensurePrivateDirectory(join(shared, "mine")), refused("EPERM", /"[^"]*shared" is writable/));
    assert.equal(existsSync(join(shared, "mine")), false);
    const sticky = directory(tmp.dir, "sticky", 0o1777);
    ensurePrivateDirectory(join(sticky, "mine"));
    assert.equal(statSync(join(sticky, "mine")).mode & 0o7777, 0o700);
  });

  test("ensurePrivateDirectory() follows symlinks in the parents", () => {
    using tmp = tempDir();
    symlinkSync(tmp.dir, tmp.path("up"));
    ensurePrivateDirectory(join(tmp.path("up"), "x", "y"));
    assert.ok(statSync(join(tmp.dir, "x", "y")).isDirectory());
  });

  test("ensurePrivateDirectory() rejects bad arguments with TypeError", () => {
    for (const path of ["", "a\0b", 7, undefined]) {
      assert.throws(() => ensurePrivateDirectory(path as string), TypeError);
    }
  });
});

describe("MappedFile.create() under a file-size limit", () => {
  // 64 MiB (bash counts ulimit -f in KiB): far above anything a runtime writes on startup.
  const limit = 65536 * 1024;
  for (const on of ["deno", "node", "bun"] as const) {
    test(`MappedFile.create() past the file-size limit throws EFBIG and leaves no file, on ${on}`, () => {
      using tmp = tempDir();
      const underLimit = (name: string, size: number) => {
        const [file, argv] = command(on, "fixtures/safety_child", ["create", tmp.path(name), JSON.stringify({ size })]);
        const quoted = [file, ...argv].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
        return spawnSync("bash", ["-c", `ulimit -f ${limit / 1024}; exec ${quoted}`], {
          encoding: "utf8",
          timeout: 60_000,
        });
      };
      const at = underLimit("at.mms", limit);
      assert.equal(at.signal, null, at.stderr);
      assert.equal(at.status, 0, at.stderr);
      assert.deepEqual(JSON.parse(at.stdout), { ok: true });
      const past = underLimit("past.mms", limit + 1);
      // Deno used to die here of SIGXFSZ (exit 153), leaving the temporary file behind.
      assert.equal(past.signal, null, past.stderr);
      assert.equal(past.status, 0, `exit ${past.status}: ${past.stderr}`);
      const outcome = JSON.parse(past.stdout);
      assert.equal(outcome.name, "MmapError", past.stdout);
      assert.equal(outcome.code, "EFBIG", past.stdout);
      assert.deepEqual(readdirSync(tmp.dir), ["at.mms"]);
    });
  }
});

describe("MappedFile lock", () => {
  test("MappedFile.open({ lock }) fails with EAGAIN while a child holds the lock, and succeeds once it is killed", async () => {
    using tmp = tempDir();
    const path = tmp.path("a.mms");
    MappedFile.create(path, { size: 8 }).close();
    const child = start(runtime, "fixtures/safety_child", ["hold-open", path, JSON.stringify({ lock: "exclusive" })]);
    const exited = finish(child);
    try {
      assert.equal(await firstLine(child), "ready");
      for (const lock of ["shared", "exclusive"] as const) {
        assert.throws(
          () => MappedFile.open(path, { lock }),
          (error: unknown) => {
            refused("EAGAIN", /holds a conflicting lock/)(error);
            const e = error as MmapError;
            assert.equal(e.syscall, "flock");
            if (libc().platform.os === "linux") assert.equal(e.errno, 11); // EWOULDBLOCK
            return true;
          },
        );
      }
      // Locks are advisory: an open that asks for none is not kept out.
      MappedFile.open(path, { write: true }).close();
    } finally {
      child.kill("SIGKILL");
    }
    assert.equal((await exited).signal, "SIGKILL");
    using file = MappedFile.open(path, { write: true, lock: "exclusive" });
    assert.equal(file.writable, true);
  });

  test("MappedFile.create({ lock }) in a child keeps the file locked until the child dies", async () => {
    using tmp = tempDir();
    const path = tmp.path("a.mms");
    const child = start(runtime, "fixtures/safety_child", [
      "hold-create",
      path,
      JSON.stringify({ size: 8, lock: "exclusive" }),
    ]);
    const exited = finish(child);
    try {
      assert.equal(await firstLine(child), "ready");
      assert.throws(() => MappedFile.open(path, { lock: "shared" }), refused("EAGAIN"));
    } finally {
      child.kill("SIGKILL");
    }
    await exited;
    MappedFile.open(path, { lock: "shared" }).close();
  });

  test("MappedFile.create({ lock }) holds the lock before the file appears at its path", () => {
    using tmp = tempDir();
    const path = tmp.path("a.mms");
    const c = libc();
    const k = c.platform.constants;
    let seen: string | undefined;
    // initialize runs on the temporary file, before it is linked at `path`.
    using file = createMappedFile(path, { size: 8, lock: "exclusive" }, () => {
      assert.equal(existsSync(path), false);
      const [temporary] = readdirSync(tmp.dir);
      const fd = openSync(tmp.path(temporary), "r");
      try {
        const result = c.flock(fd, k.LOCK_SH | k.LOCK_NB);
        seen = result === -1 ? errnoName(c.errno()) : "unlocked";
      } finally {
        closeSync(fd);
      }
    });
    assert.equal(seen, "EAGAIN");
    assert.throws(() => MappedFile.open(path, { lock: "shared" }), refused("EAGAIN"));
    file.close();
    MappedFile.open(path, { lock: "exclusive" }).close();
  });

  test("MappedFile.open({ lock: 'shared' }) admits other shared holders and keeps an exclusive one out until close()", () => {
    using tmp = tempDir();
    const path = tmp.path("a.mms");
    MappedFile.create(path, { size: 8 }).close();
    const first = MappedFile.open(path, { lock: "shared" });
    const second = MappedFile.open(path, { lock: "shared" });
    assert.throws(() => MappedFile.open(path, { write: true, lock: "exclusive" }), refused("EAGAIN"));
    first.close();
    assert.throws(() => MappedFile.open(path, { write: true, lock: "exclusive" }), refused("EAGAIN"));
    second.close();
    second.close();
    using writer = MappedFile.open(path, { write: true, lock: "exclusive" });
    assert.equal(writer.writable, true);
    assert.throws(() => MappedFile.open(path, { lock: "shared" }), refused("EAGAIN"));
  });

  test("MappedFile.create() and open() reject a bad lock or unsafeAllowAnyDirectory with TypeError", () => {
    using tmp = tempDir();
    const path = tmp.path("a.mms");
    for (const options of [{ lock: "write" }, { lock: true }, { lock: null }, { unsafeAllowAnyDirectory: 1 }]) {
      assert.throws(() => MappedFile.create(path, { size: 8, ...options } as never), TypeError);
      assert.throws(() => MappedFile.open(path, options as never), TypeError);
    }
    assert.equal(existsSync(path), false);
  });
});
