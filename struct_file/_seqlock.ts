/**
 * The sequence lock of a struct file (`docs/FORMAT.md`, "Sequence"): the header words
 * `sequence`, `lastEven`, `writerPid` and `writerStart`, how a writer takes and leaves the
 * write section, how a reader retries until no update overlapped its copy, and how either
 * tells a writer that died inside an update from one that is merely slow. Free of the
 * layout: it works on the first 72 bytes of any buffer holding a struct file header.
 *
 * @module
 */

import { ATOMIC_LOAD_MAY_WRITE } from "../ffi/runtime.ts";
import { OFFSET } from "./_format.ts";
import { isAlive, ownStartTime, PID } from "./_process.ts";
import { StaleWriterError, staleWriterMessage } from "./stale_writer_error.ts";

/** The odd sequence value that names this process as the writer inside an update. */
export const HOLDING: number = (PID << 1) | 1;

const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** Blocks the thread for `ms` milliseconds (`Atomics.wait` on private memory). */
function sleep(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/**
 * The sequence lock over one mapped header. Internal: {@linkcode StructFile} holds one.
 * `path` and `timeout` are for the errors it throws and how long it waits.
 */
export class Seqlock {
  readonly #path: string;
  readonly #timeout: number;
  /** The sequence word and the `lastEven` word after it. */
  readonly #sequence: Int32Array;
  /** The same two words, for 64-bit loads on read-only maps under Bun. */
  readonly #sequence64: BigInt64Array | undefined;
  readonly #writerPid: Int32Array;
  /** `writerPid` and the reserved word after it, for 64-bit loads on read-only maps under Bun. */
  readonly #writerPid64: BigInt64Array | undefined;
  readonly #writerStart: BigUint64Array;
  /** `writerStart` as two 32-bit halves: comparing them allocates no BigInt. */
  readonly #writerStartHalves: Uint32Array;
  /** This process's start time in two halves, for a writable file. */
  readonly #ownStartLow: number;
  readonly #ownStartHigh: number;

  /**
   * @param buffer The mapped file, from its first byte (the header).
   * @param writable Whether this process may update it.
   * @param path The file, for the errors' messages.
   * @param timeout How long to wait for a live writer, in milliseconds, before giving up.
   */
  constructor(buffer: ArrayBuffer, writable: boolean, path: string, timeout: number) {
    this.#path = path;
    this.#timeout = timeout;
    // In bounds: the header fields below lie in its first 72 bytes, and every struct file
    // is longer than its 128-byte header (readHeader or create checked).
    this.#sequence = new Int32Array(buffer, OFFSET.sequence, 2);
    this.#sequence64 = ATOMIC_LOAD_MAY_WRITE && !writable ? new BigInt64Array(buffer, OFFSET.sequence, 1) : undefined;
    this.#writerPid = new Int32Array(buffer, OFFSET.writerPid, 1);
    this.#writerPid64 = this.#sequence64 && new BigInt64Array(buffer, OFFSET.writerPid, 1);
    this.#writerStart = new BigUint64Array(buffer, OFFSET.writerStart, 1);
    this.#writerStartHalves = new Uint32Array(buffer, OFFSET.writerStart, 2);
    // Read here, not at import: it reads /proc, which a reader may have no permission for.
    const own = writable ? ownStartTime() : 0n;
    this.#ownStartLow = Number(own & 0xffffffffn);
    this.#ownStartHigh = Number(own >> 32n);
    // An earlier process with this pid is forgotten now, unless it died inside an update:
    // then the header is the evidence that the sequence's holder is dead, and the first
    // update forgets it once it has taken over.
    if (writable && this.load() !== HOLDING) this.#forgetEarlierProcess();
  }

  /**
   * Takes the write section, waiting for (or taking over from) another writer, and
   * returns the even value this update started from, for {@linkcode Seqlock.prototype.leave}.
   *
   * @throws {StaleWriterError} If another live writer holds it for longer than the timeout.
   */
  enter(): number {
    const sequence = this.#sequence;
    // Take the write section: from an even value to the odd value that names this process,
    // atomically, so that a reader who sees the update under way also sees who makes it.
    // The first try expects lastEven, which equals the sequence between updates: a plain
    // read, where an atomic load would cost as much as a third of the update. A wrong
    // guess only fails the compare-and-swap, which returns the actual value.
    let s = sequence[1] & ~1;
    const found = Atomics.compareExchange(sequence, 0, s, HOLDING);
    // Apart, so that this path stays small enough for the JIT to inline into the caller.
    if (found !== s) s = this.#enterContended(found);
    // Where this update started from, for a writer that takes over if this process dies.
    sequence[1] = s;
    if (this.#writerPid[0] !== PID || !this.#recordsThisProcess()) this.#recordThisProcess();
    return s;
  }

  /**
   * The rest of {@linkcode Seqlock.prototype.enter} once its first compare-and-swap found
   * `found` rather than the value it guessed: tries again, waiting for (or taking over from)
   * another writer, and returns the even value the successful compare-and-swap replaced.
   */
  #enterContended(found: number): number {
    const sequence = this.#sequence;
    let s = found;
    let started = 0;
    for (let attempt = 0;; attempt++) {
      if (attempt >= 64) {
        // Other writers keep winning: bounded like any other wait.
        if (started === 0) started = performance.now();
        this.#giveUpIfLate(started, "update");
      }
      while ((s & 1) !== 0) {
        if (started === 0) started = performance.now();
        s = this.#waitForWriter(s, true, started);
      }
      const now = Atomics.compareExchange(sequence, 0, s, HOLDING);
      if (now === s) return s;
      s = now;
    }
  }

  /**
   * Records this process's start time, which tells it from a later process with its pid.
   * Clearing the pid first keeps a reader from pairing this pid with another's start.
   */
  #recordThisProcess(): void {
    Atomics.store(this.#writerPid, 0, 0);
    this.#writerStart[0] = ownStartTime();
    Atomics.store(this.#writerPid, 0, PID);
  }

  /**
   * Leaves the write section that {@linkcode Seqlock.prototype.enter} took, publishing the
   * update: the sequence moves on to the even value after `s`. Runs also when the update's
   * function threw (`thrown`), whose error then becomes the cause of any error here.
   *
   * @throws {StaleWriterError} If another writer took the write section over meanwhile.
   */
  leave(s: number, thrown: { error: unknown } | undefined): void {
    const sequence = this.#sequence;
    const next = (s + 2) | 0;
    // lastEven moves on only from this update's start: had another writer taken over,
    // it may have moved it further, and it must never go back.
    if (sequence[1] === s) sequence[1] = next;
    // A compare-and-swap, not a store: should another writer have taken the file over
    // (judging this process dead), its update must not be marked finished by this one.
    if (Atomics.compareExchange(sequence, 0, HOLDING, next) !== HOLDING) this.#lostUpdate(thrown);
  }

  /**
   * The version {@linkcode StructFile.prototype.version} reports: the sequence when even;
   * while an update is under way (the word names its writer), the update's number, the
   * even value it started from plus one, as read while the same update is under way.
   */
  version(): number {
    let s = this.load();
    for (let tries = 0; (s & 1) !== 0 && tries < 8; tries++) {
      const started = this.#sequence[1] | 1;
      const again = this.load();
      if (again === s) return started >>> 0;
      s = again;
    }
    return ((s & 1) === 0 ? s : this.#sequence[1] | 1) >>> 0;
  }

  /**
   * A reader's turn failed (`before` odd: a writer is inside an update, or even: the copy
   * it took was overlapped): waits for the writer, or throws once the wait is over. For a
   * reader's own retry loop (`snapshot`, which keeps one inline to save a closure call).
   *
   * @throws {StaleWriterError} If the writer is dead, or has been inside the update for longer than the timeout.
   */
  waitToRead(before: number, started: number): void {
    if ((before & 1) !== 0) this.#waitForWriter(before, false, started);
    else this.#giveUpIfLate(started, "snapshot"); // updates keep coming faster than a copy can be taken
  }

  /** `Atomics.load` of the sequence word, as a signed 32-bit value. */
  load(): number {
    const wide = this.#sequence64;
    // In bounds: the 8 bytes at OFFSET.sequence are the sequence and lastEven, and
    // this platform is little-endian, so the low half is the sequence.
    return wide === undefined ? Atomics.load(this.#sequence, 0) : Number(BigInt.asIntN(32, Atomics.load(wide, 0)));
  }

  /**
   * The process the header records as the last writer (0 when none), and whether it runs.
   * Its start time is that process's only if the pid is the same before and after it is read.
   */
  writer(): { readonly pid: number; readonly alive: boolean } {
    const pid = this.#loadWriterPid() >>> 0;
    const start = this.#writerStart[0];
    const known = this.#loadWriterPid() >>> 0 === pid;
    return { pid, alive: pid !== 0 && isAlive(pid, known ? start : 0n) };
  }

  /** `Atomics.load` of the header's `writerPid`. */
  #loadWriterPid(): number {
    const wide = this.#writerPid64;
    return wide === undefined ? Atomics.load(this.#writerPid, 0) : Number(BigInt.asIntN(32, Atomics.load(wide, 0)));
  }

  /**
   * The writer inside the update that `sequence` (odd) names, and whether it runs. The
   * header's start time is that process's only if the header names it, before and after
   * the start time is read: a new writer records itself just after taking the sequence,
   * and until then its pid alone decides.
   */
  #holder(sequence: number): [pid: number, alive: boolean] {
    const pid = sequence >>> 1;
    const recorded = this.#loadWriterPid() >>> 0;
    const start = this.#writerStart[0];
    const known = recorded === pid && this.#loadWriterPid() >>> 0 === pid;
    return [pid, isAlive(pid, known ? start : 0n)];
  }

  /** Throws a {@linkcode StaleWriterError} once the caller has waited `timeout` since `started`. */
  #giveUpIfLate(started: number, action: "snapshot" | "update"): void {
    const waited = performance.now() - started;
    if (waited >= this.#timeout) {
      const now = this.load();
      // Even: updates keep coming faster than this caller gets a turn; their writers run.
      const [pid, alive] = (now & 1) !== 0 ? this.#holder(now) : [this.#loadWriterPid() >>> 0, true];
      const ms = Math.round(waited);
      throw new StaleWriterError(staleWriterMessage(action, this.#path, pid, alive, ms), {
        path: this.#path,
        pid,
        alive,
      });
    }
  }

  /**
   * Waits for the sequence to move on from `seen` (odd: a writer is inside an update) and
   * returns its new value. Gives up when that writer is dead (or, with `takeOver`, moves the
   * sequence on to even so that a new writer can proceed), and when the caller has waited
   * `timeout` in all since `started`, however often the sequence changed in between.
   */
  #waitForWriter(seen: number, takeOver: boolean, started: number): number {
    const action = takeOver ? "update" : "snapshot";
    this.#giveUpIfLate(started, action);
    let pause = 0.05;
    for (let spins = 0;; spins++) {
      const now = this.load();
      if (now !== seen) return now;
      // Most updates take well under a microsecond: spin a little before the syscalls.
      if (spins < 2000) continue;
      const [pid, alive] = this.#holder(seen);
      // Re-read: a start time read from the header belongs to the holder of `seen` only
      // if the sequence still holds it.
      if (this.load() !== seen) continue;
      if (!alive) {
        if (!takeOver) {
          throw new StaleWriterError(staleWriterMessage(action, this.#path, pid, false), {
            path: this.#path,
            pid,
            alive: false,
          });
        }
        // Finish the dead writer's update for it: on to the even value after the one it
        // started from. lastEven moves first, so that it never lags the sequence: were this
        // process to stop between the two, the next writer to take over would still move
        // the sequence on to a value no reader has seen.
        const lastEven = this.#sequence[1];
        const next = ((lastEven & ~1) + 2) | 0;
        if (
          Atomics.compareExchange(this.#sequence, 1, lastEven, next) === lastEven &&
          Atomics.compareExchange(this.#sequence, 0, seen, next) === seen &&
          pid === PID
        ) {
          // The dead writer had this process's pid (an earlier process, by its start time):
          // forget it before this process takes the sequence (see the constructor).
          this.#forgetEarlierProcess();
        }
        return this.load();
      }
      this.#giveUpIfLate(started, action);
      sleep(pause);
      pause = Math.min(pause * 2, 10);
    }
  }

  /**
   * Throws: another writer took the write section over while this process was in it.
   * `thrown` is what `fn` threw, if it did: the error's cause.
   */
  #lostUpdate(thrown: { error: unknown } | undefined): never {
    const now = this.load();
    const pid = (now & 1) !== 0 ? now >>> 1 : this.#loadWriterPid() >>> 0;
    throw new StaleWriterError(
      `Cannot finish the update of ${JSON.stringify(this.#path)}: another writer (process ${pid}) took the file ` +
        `over during it, judging this process dead; the data may mix both updates`,
      { path: this.#path, pid, alive: true, cause: thrown?.error },
    );
  }

  /**
   * Runs `read` (which only reads the data) until no update overlapped it, and returns its
   * result and the (even) version it was read at.
   *
   * @throws {StaleWriterError} As {@linkcode Seqlock.prototype.waitToRead}.
   */
  read<T>(read: () => T): [T, number] {
    let started = 0;
    for (let attempt = 0;; attempt++) {
      const before = this.load();
      if ((before & 1) === 0) {
        const value = read();
        if (this.load() === before) return [value, before >>> 0];
      }
      if (attempt < 64) continue; // contended: spin briefly first
      if (started === 0) started = performance.now();
      this.waitToRead(before, started);
    }
  }

  /**
   * Clears the header's writer if it names an earlier process that had this pid (gone: a pid
   * belongs to one running process). Between taking the sequence and recording itself,
   * this process must not be paired with that one's start time, and judged dead.
   */
  #forgetEarlierProcess(): void {
    if (this.#writerPid[0] === PID && !this.#recordsThisProcess()) Atomics.store(this.#writerPid, 0, 0);
  }

  /** Whether the header's start time is this process's. */
  #recordsThisProcess(): boolean {
    const start = this.#writerStartHalves;
    return start[0] === this.#ownStartLow && start[1] === this.#ownStartHigh;
  }
}
