/**
 * Generates one accessor class per layout: getters and setters on the prototype that index
 * typed arrays held as instance fields, created once per buffer. This is what makes a field
 * read about as fast as indexing a typed array (see `bench/`). Internal.
 *
 * Generation has two steps. {@linkcode planClass} turns a layout into a {@linkcode ClassPlan}:
 * for each field, its getter, setter and copy as functions of an {@linkcode Addressing} (how
 * a class finds a byte or typed-array element of its view), and what the class must hold
 * (which typed arrays, base indexes, cache slots). Then each kind of class (a fixed view, a
 * cursor's moving view below and above 2 GiB) is written from the plan with its own
 * addressing: no source is ever rewritten after it was written.
 *
 * Why this shape, measured in prototypes: per-instance `Object.defineProperty` of
 * per-instance closures is 35-70x slower; closures over one buffer are fast only while a
 * call site sees one mapping; a class per layout stays fast however many mappings a call
 * site sees. Each layout's source is made distinct (a unique id), so V8 and JavaScriptCore
 * never share type feedback between layouts.
 *
 * @module
 */

import { BIGINT_VIA_DATAVIEW } from "../ffi/runtime.ts";
import { arrayField, readValue } from "./_aggregates.ts";
import {
  type ArrayName,
  type Arrays,
  commonAlignment,
  DATAVIEW,
  isLittleEndian,
  nativeNumbers,
  type NumericName,
  typedArrayCanIndex,
} from "./_buffer_arrays.ts";
import { bitsGet, bitsSet, utf8Get, utf8Set } from "./_codecs.ts";
import { refuseReadOnly } from "./_messages.ts";
import { jsonValue } from "./scalar_array.ts";
import { type ArrayType, type BitsType, type CompositeType, isMadeType } from "./types.ts";

/** Helpers the generated code calls, as `h.<name>`. */
interface Helpers {
  utf8Get: typeof utf8Get;
  utf8Set: typeof utf8Set;
  readOnly: typeof refuseReadOnly;
  /** Returns if `index` is an integer in [0, `length`), else throws the cursor's `RangeError`. */
  cursorIndex(index: number, length: number): void;
  arrayField: typeof arrayField;
  readValue: typeof readValue;
  bitsGet: typeof bitsGet;
  bitsSet: typeof bitsSet;
}

const helpers: Helpers = {
  utf8Get,
  utf8Set,
  readOnly: refuseReadOnly,
  cursorIndex(index, length) {
    if (!(Number.isInteger(index) && index >= 0 && index < length)) {
      throw new RangeError(`Cannot move cursor to record ${index}: there are ${length} records`);
    }
  },
  arrayField,
  readValue,
  bitsGet,
  bitsSet,
};

/** What every generated view has besides its fields. Names start with `$`, which no field name can. */
export interface View {
  readonly $a: Arrays;
  readonly $o: number;
  readonly $t: CompositeType;
  readonly $g: number;
  readonly $ro: boolean;
  $read(): Record<string, unknown>;
}

/** A generated cursor: one view of `View` moved across consecutive records. */
export interface Cursor {
  readonly length: number;
  at(index: number): View;
}

/** A generated cursor class, with the view classes it moves. */
export type CursorClass = (new (arrays: Arrays, byteOffset: number, length: number) => Cursor) & {
  $Moving: (new (arrays: Arrays, byteOffset: number) => View)[];
};

/** A generated view class, with its cursor class (generated on first use). */
export type ViewClass = (new (arrays: Arrays, byteOffset: number) => View) & {
  $cursor(): CursorClass;
};

/**
 * The keys of a view's internal state (its buffer's arrays, its offset, its cached
 * aggregates): symbols, so that `Object.keys`, `JSON.stringify` and consoles see only the
 * fields. In generated source each is a constant `$<key>` (`this[$u32]`). Measured on V8
 * and JavaScriptCore: a symbol-keyed slot reads as fast as a named one.
 */
const SLOTS: Record<string, symbol> = Object.fromEntries(
  ["a", "o", "b2", "b4", "b8", "i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64", "f32", "f64", "dv"].map(
    (k) => [k, Symbol(`mmstruct.${k}`)],
  ),
);
/** The keys of cached aggregate fields (`$c<k>` in generated source), by their index among a layout's cached fields. */
const CACHE_SLOTS: symbol[] = [];
function cacheSlot(k: number): symbol {
  while (CACHE_SLOTS.length <= k) CACHE_SLOTS.push(Symbol(`mmstruct.c${CACHE_SLOTS.length}`));
  return CACHE_SLOTS[k];
}

/**
 * A field name as it enters generated source: a string literal, never raw text, so that
 * no name can be read as code (`get "hits"()`, `this["hits"]` are `get hits()`, `this.hits`).
 */
function key(name: string): string {
  return JSON.stringify(name);
}

/** How a generated class finds the bytes of its view: source expressions for indexes. */
interface Addressing {
  /** The index, in `this[$u8]` or the DataView, of the view's byte `offset`. */
  byte(offset: number): string;
  /** The index of the view's byte `offset` (a multiple of `unit`) in the typed array of `unit`-byte elements. */
  element(unit: number, offset: number): string;
}

/** A view whose offset never changes: the base index of each element size is kept in a slot of its own (`$b4`). */
const FIXED: Addressing = {
  byte: (offset) => `this[$o] + ${offset}`,
  element: (unit, offset) => `this[$b${unit}] + ${offset / unit}`,
};

/** A cursor's view below 2 GiB: moving it is one store of its offset, shifted to an element index at each access. */
const MOVING: Addressing = {
  byte: FIXED.byte,
  element: (unit, offset) => `(this[$o] >> ${Math.log2(unit)}) + ${offset / unit}`,
};

/** A cursor's view past 2 GiB (Deno maps that far): dividing is exact, the offset being a multiple of every unit. */
const MOVING_LARGE: Addressing = {
  byte: FIXED.byte,
  element: (unit, offset) => `this[$o] / ${unit} + ${offset / unit}`,
};

/** One field's accessors as source, written for any {@linkcode Addressing}. */
interface FieldAccessors {
  readonly name: string;
  /** The getter's expression. */
  get(at: Addressing): string;
  /** The setter's statements, with the new value in `v`; absent where the field is not assignable. */
  set?(at: Addressing): string;
  /** The expression that copies the field for `$read()`. */
  read(at: Addressing): string;
}

/** Everything the classes of one layout are written from. */
interface ClassPlan {
  readonly type: CompositeType;
  readonly guarantee: number;
  /** Setters refuse writes (a read-only mapping). */
  readonly readOnly: boolean;
  /** Only `$read()`, no accessors: a snapshot reader. */
  readonly readerOnly: boolean;
  readonly fields: FieldAccessors[];
  /** The typed arrays (and DataView) the accessors index, held by every instance. */
  readonly arrays: Set<ArrayName>;
  /** The element sizes whose base index a fixed view keeps (`$b<size>`). */
  readonly units: Set<number>;
  /** How many aggregate fields are cached (`$c0`, `$c1`...), made on first access. */
  caches: number;
  /** Assignable fields of a read-only view: setters that throw, added after compiling (see {@linkcode refuseWrites}). */
  readonly refused: string[];
  /** Array field types (`h.A[k]`), bitfield types (`h.B[k]`), nested layouts (`h.C(k)`), by index. */
  readonly arrayTypes: ArrayType[];
  readonly bitTypes: BitsType[];
  readonly children: { type: CompositeType; guarantee: number }[];
}

/** Plans the accessors of every field of `type` for views whose offset is a multiple of `guarantee`. */
function planClass(type: CompositeType, guarantee: number, readOnly: boolean, readerOnly: boolean): ClassPlan {
  const plan: ClassPlan = {
    type,
    guarantee,
    readOnly,
    readerOnly,
    fields: [],
    arrays: new Set(["u8"]),
    units: new Set(),
    caches: 0,
    refused: [],
    arrayTypes: [],
    bitTypes: [],
    children: [],
  };
  /** Accessors of an assignable field: refused at run time on a read-only view. */
  const assignable = (accessors: Required<FieldAccessors>): FieldAccessors => {
    if (!readOnly) return accessors;
    plan.refused.push(accessors.name);
    return { name: accessors.name, get: accessors.get, read: accessors.read };
  };
  /** The slot that caches aggregate field `name`, as source. */
  const cache = () => `this[$c${plan.caches++}]`;

  for (const field of type.fields) {
    const { name, offset } = field;
    const t = field.type;
    const byte = (at: Addressing) => at.byte(offset);
    switch (t.kind) {
      case "scalar": {
        if (t.name === "bool") {
          const get = (at: Addressing) => `this[$u8][${byte(at)}] !== 0`;
          plan.fields.push(assignable({ name, get, set: (at) => `this[$u8][${byte(at)}] = v ? 1 : 0;`, read: get }));
        } else if (
          typedArrayCanIndex(t, guarantee, offset) && !(BIGINT_VIA_DATAVIEW && t.size === 8 && t.name !== "f64")
        ) {
          const array = t.name as NumericName;
          plan.arrays.add(array);
          if (t.size > 1) plan.units.add(t.size);
          const element = (at: Addressing) =>
            `this[$${array}][${t.size === 1 ? byte(at) : at.element(t.size, offset)}]`;
          plan.fields.push(assignable({ name, get: element, set: (at) => `${element(at)} = v;`, read: element }));
        } else {
          plan.arrays.add("dv");
          const method = DATAVIEW[t.name as NumericName];
          const little = isLittleEndian(t);
          const get = (at: Addressing) => `this[$dv].get${method}(${byte(at)}, ${little})`;
          const set = (at: Addressing) => `this[$dv].set${method}(${byte(at)}, v, ${little});`;
          plan.fields.push(assignable({ name, get, set, read: get }));
        }
        break;
      }
      case "bits": {
        const { get, set } = bitfieldAccessors(name, field.bitOffset ?? 0, t, plan.bitTypes.push(t) - 1);
        plan.fields.push(
          assignable({ name, get: (at) => get(byte(at)), set: (at) => set(byte(at)), read: (at) => get(byte(at)) }),
        );
        break;
      }
      case "utf8": {
        const get = (at: Addressing) => `h.utf8Get(this[$u8], ${byte(at)}, ${t.size})`;
        const set = (at: Addressing) => `h.utf8Set(this[$u8], ${byte(at)}, ${t.size}, v, ${key(name)});`;
        plan.fields.push(assignable({ name, get, set, read: get }));
        break;
      }
      case "bytes": {
        const range = (at: Addressing) => `${byte(at)}, ${byte(at)} + ${t.size}`;
        const copy = (at: Addressing) => `this[$u8].slice(${range(at)})`;
        if (readOnly) {
          plan.fields.push({ name, get: copy, read: copy });
        } else {
          const slot = cache();
          plan.fields.push({ name, get: (at) => `${slot} ??= this[$u8].subarray(${range(at)})`, read: copy });
        }
        break;
      }
      case "array": {
        const k = plan.arrayTypes.push(t) - 1;
        const g = commonAlignment(guarantee, offset);
        const make = (at: Addressing) =>
          `h.arrayField(h.A[${k}], this[$a], ${byte(at)}, ${g}, ${readOnly}, ${key(name)})`;
        const read = (at: Addressing) => `h.readValue(h.A[${k}], this[$a], ${byte(at)}, ${g})`;
        if (readOnly && nativeNumbers(t.element) && typedArrayCanIndex(t.element, g, 0)) {
          // A typed array copy (no typed array refuses writes): made at each access, never stale.
          plan.fields.push({ name, get: make, read });
        } else {
          // Writable typed arrays and element arrays (which read memory at each access) are live: made once.
          const slot = cache();
          plan.fields.push({ name, get: (at) => `${slot} ??= ${make(at)}`, read });
        }
        break;
      }
      case "struct":
      case "union": {
        const k = plan.children.push({ type: t, guarantee: commonAlignment(guarantee, offset) }) - 1;
        const make = (at: Addressing) => `new (h.C(${k}))(this[$a], ${byte(at)})`;
        if (readerOnly) {
          // A reader has no accessors: it copies a nested struct with a reader of its own.
          plan.fields.push({ name, get: make, read: (at) => `${make(at)}.$read()` });
        } else {
          const slot = cache();
          plan.fields.push({ name, get: (at) => `${slot} ??= ${make(at)}`, read: () => `this[${key(name)}].$read()` });
        }
        break;
      }
    }
  }
  return plan;
}

/**
 * The getter and setter source of bitfield `name` at bit `bit` of a byte expression, whose
 * type `type` is `h.B[k]`. A field of up to 32 bits within 4 bytes is read and written
 * inline, as one 32-bit integer assembled from its bytes (shifts keep the neighbouring bits);
 * the setter checks the value with constants and leaves every other case, and every error,
 * to the shared helpers. Wider fields (64-bit types, and 32-bit ones straddling 5 bytes in
 * a packed struct) always use the helpers.
 */
function bitfieldAccessors(
  name: string,
  bit: number,
  type: BitsType,
  k: number,
): { get(at: string): string; set(at: string): string } {
  const helper = (at: string) => `h.bitsSet(this[$u8], ${at}, ${bit}, h.B[${k}], v, ${key(name)});`;
  const width = type.width;
  const span = (bit + width + 7) >> 3;
  if (type.size === 8 || span > 4) {
    return { get: (at) => `h.bitsGet(this[$u8], ${at}, ${bit}, h.B[${k}])`, set: helper };
  }
  const byte = (at: string, i: number) => `this[$u8][${at} + ${i}]`;
  const word = (at: string) =>
    `(${Array.from({ length: span }, (_, i) => i === 0 ? byte(at, 0) : `${byte(at, i)} << ${8 * i}`).join(" | ")})`;
  // The field's top bit shifted to bit 31, then back down: arithmetic for a sign, logical for none.
  const up = 32 - bit - width;
  const field = (at: string) => `(${word(at)} << ${up}) ${type.signed ? ">>" : ">>>"} ${32 - width}`;
  const get = (at: string) => type.name === "bool" ? `(${field(at)}) !== 0` : `(${field(at)})`;
  // The mask of the field's bits within the word, as a signed 32-bit integer.
  const mask = ((2 ** width - 1) * 2 ** bit) | 0;
  const min = type.signed ? -(2 ** (width - 1)) : 0;
  const max = type.signed ? 2 ** (width - 1) - 1 : 2 ** width - 1;
  const check = type.name === "bool"
    ? `typeof v !== "boolean"`
    : `typeof v !== "number" || !(v >= ${min} && v <= ${max}) || v % 1 !== 0`;
  const value = type.name === "bool" ? "(v ? 1 : 0)" : "v";
  const set = (at: string) => {
    const stores = Array.from({ length: span }, (_, i) => `${byte(at, i)} = x${i === 0 ? "" : ` >>> ${8 * i}`};`);
    return `if (${check}) { ${helper(at)} return; } const x = (${
      word(at)
    } & ${~mask}) | ((${value} << ${bit}) & ${mask}); ${stores.join(" ")}`;
  };
  return { get, set };
}

/** The members of a view class written from `plan` with addressing `at`: internals, `$read()`, the accessors. */
function members(plan: ClassPlan, at: Addressing): string {
  const read = `$read() { return { ${plan.fields.map((f) => `${key(f.name)}: ${f.read(at)}`).join(", ")} }; }`;
  const accessors = plan.readerOnly ? [] : plan.fields.flatMap((f) => [
    `get ${key(f.name)}() { return ${f.get(at)}; }`,
    ...(f.set === undefined ? [] : [`set ${key(f.name)}(v) { ${f.set(at)} }`]),
  ]);
  return ["get $a() { return this[$a]; }", "get $o() { return this[$o]; }", read, ...accessors].join("\n  ");
}

/**
 * The constructor of a view class: it writes every slot once, in one order, so that V8
 * treats them as constants of the object (what makes a field access as fast as a typed-array
 * one). A fixed view also keeps its base indexes; `descriptors` is the index in `h.D` of the
 * own field accessors (so that `Object.keys` and spreading list the fields).
 */
function constructorSource(plan: ClassPlan, fixed: boolean, descriptors: number): string {
  // Shifts keep bases small integers (V8 Smis) for offsets below 2 GiB; larger offsets
  // (Deno maps past 4 GiB) divide, exactly, since o is a multiple of every unit.
  const base = (unit: number) => `this[$b${unit}] = o < 2147483648 ? o >> ${Math.log2(unit)} : o / ${unit};`;
  return [
    "constructor(a, o) {",
    "this[$a] = a; this[$o] = o;",
    ...[...plan.arrays].map((array) => `this[$${array}] = a.${array};`),
    ...(fixed ? [...plan.units].map(base) : []),
    ...Array.from({ length: plan.caches }, (_, k) => `this[$c${k}] = undefined;`),
    ...(plan.readerOnly ? [] : [`Object.defineProperties(this, h.D[${descriptors}]);`]),
    "Object.preventExtensions(this); }",
  ].join(" ");
}

/** The first lines of every module generated for `plan`: what it is, and the slot constants. */
function moduleHeader(plan: ClassPlan, id: number): string {
  const { type, guarantee, readOnly } = plan;
  const constants = [
    ...Object.keys(SLOTS).map((k) => `$${k} = h.S.${k}`),
    ...Array.from({ length: plan.caches }, (_, k) => `$c${k} = h.K[${k}]`),
  ];
  return `"use strict";
// mmstruct view #${id}: ${type.kind} of ${type.fields.length} fields, ${type.size} bytes, aligned to ${guarantee}${
    readOnly ? ", read-only" : ""
  }
const ${constants.join(", ")};`;
}

/** The module of a layout's view class. */
function viewModule(plan: ClassPlan, id: number): string {
  return `${moduleHeader(plan, id)}
class View${id} {
  ${constructorSource(plan, true, 0)}
  ${members(plan, FIXED)}
}
return View${id};`;
}

/**
 * The module of a layout's cursor class and the views it moves: a separate class (so that
 * moving it never makes the offsets of ordinary views mutable), one for cursors that end
 * below 2 GiB (shifts) and one for the rest (divisions). Compiled only when a cursor is
 * first asked for: most layouts never need one.
 *
 * The check in `at()` covers indexes below 2^32 (`>>> 0` holds no more); `h.cursorIndex`
 * returns for the larger ones a longer cursor has, and throws for bad ones. Other checks
 * (`(i | 0) === i` with `i >= 0`, a closure over the bounds, a typed array's bounds), no
 * check at all, and per-unit bases set by `at()` were measured in separate processes on
 * Node 20 and 24, Deno and Bun (issue 8): none was faster beyond noise, some slower.
 */
function cursorModule(plan: ClassPlan, id: number): string {
  const size = plan.type.size;
  const resets = Array.from({ length: plan.caches }, (_, k) => `v[$c${k}] = undefined;`).join(" ");
  return `${moduleHeader(plan, id)}
class Moving${id} {
  ${constructorSource(plan, false, 1)}
  ${members(plan, MOVING)}
}
class MovingLarge${id} {
  ${constructorSource(plan, false, 2)}
  ${members(plan, MOVING_LARGE)}
}
class Cursor${id} {
  constructor(a, base, n) {
    this.$v = base + n * ${size} <= 2147483648 ? new Moving${id}(a, base) : new MovingLarge${id}(a, base);
    this.$B = base;
    this.length = n; Object.freeze(this);
  }
  at(i) {
    if (!(i >>> 0 === i && i < this.length)) h.cursorIndex(i, this.length);
    const v = this.$v;
    v[$o] = this.$B + i * ${size}; ${resets}
    return v;
  }
}
Cursor${id}.$Moving = [Moving${id}, MovingLarge${id}];
return Cursor${id};`;
}

/** Throws a `TypeError` unless `type` was made by this library's factories: the generator writes its sizes, offsets and scalar names into source as they are. */
function assertGeneratable(type: CompositeType): void {
  if (!isMadeType(type)) {
    throw new TypeError(
      "Cannot generate a view: the layout is not a struct() or union() made by this library (a type built by hand)",
    );
  }
}

let nextId = 0;

/** Compiles the view class of a layout, and gives it a cursor class compiled on first use. */
function generate(type: CompositeType, guarantee: number, readOnly: boolean, readerOnly: boolean): ViewClass {
  assertGeneratable(type);
  const id = nextId++;
  const plan = planClass(type, guarantee, readOnly, readerOnly);
  const childClasses: (ViewClass | undefined)[] = [];
  const local = {
    ...helpers,
    A: plan.arrayTypes,
    B: plan.bitTypes,
    S: SLOTS,
    K: Array.from({ length: plan.caches }, (_, k) => cacheSlot(k)),
    /** The own field accessors of each class: the view's, then the two moving views'. */
    D: [] as PropertyDescriptorMap[],
    C: (k: number) =>
      childClasses[k] ??= classFor(plan.children[k].type, plan.children[k].guarantee, readOnly, readerOnly),
  };
  /** What each compiled view class gets besides its source: its description, refused writes, own accessors. */
  const finish = (View: { prototype: object }, n: number) => {
    describeView(View.prototype, type, guarantee, readOnly);
    if (!readerOnly) refuseWrites(View.prototype, plan.refused);
    local.D[n] = ownDescriptors(View.prototype, type);
  };
  const View = new Function("h", viewModule(plan, id))(local) as ViewClass;
  finish(View, 0);
  let Cursor: CursorClass | undefined;
  View.$cursor = () => {
    if (Cursor === undefined) {
      Cursor = new Function("h", cursorModule(plan, id))(local) as CursorClass;
      Cursor.$Moving.forEach((Moving, n) => finish(Moving, n + 1));
    }
    return Cursor;
  };
  return View;
}

const classCache = new WeakMap<CompositeType, Map<string, ViewClass>>();

/**
 * The accessor class for `type` when every view's byte offset is a multiple of
 * `guarantee`, read-only or not. Cached per type, guarantee and access.
 */
export function classFor(type: CompositeType, guarantee: number, readOnly: boolean, readerOnly = false): ViewClass {
  let byKey = classCache.get(type);
  if (byKey === undefined) classCache.set(type, byKey = new Map());
  const key = `${guarantee}:${readOnly}:${readerOnly}`;
  let View = byKey.get(key);
  if (View === undefined) {
    View = generate(type, guarantee, readOnly || readerOnly, readerOnly);
    byKey.set(key, View);
  }
  return View;
}

/**
 * A class whose instances only copy the struct (`$read()`), with no field accessors: a
 * fraction of a view class's cost to generate and compile, for readers that only take
 * snapshots (opening a struct file of a new layout). Cached like {@linkcode classFor}.
 */
export function readerFor(type: CompositeType, guarantee: number): ViewClass {
  return classFor(type, guarantee, true, true);
}

/** The reader class {@linkcode readerFor} would return, if it was already generated. */
export function cachedReaderFor(type: CompositeType, guarantee: number): ViewClass | undefined {
  return classCache.get(type)?.get(`${guarantee}:true:true`);
}

/**
 * The prototype's field accessors as own, enumerable properties for each instance. The same
 * getter and setter functions for every instance, so that engines give all the views of a
 * class one shape (V8 shares a map transition when the accessor pair is the same).
 */
function ownDescriptors(prototype: object, type: CompositeType): PropertyDescriptorMap {
  const descriptors: PropertyDescriptorMap = {};
  for (const { name } of type.fields) {
    const { get, set } = Object.getOwnPropertyDescriptor(prototype, name) ?? {};
    if (get !== undefined) descriptors[name] = { get, set, enumerable: true, configurable: false };
  }
  return descriptors;
}

/**
 * Gives the read-only fields a setter that throws a `TypeError`. Made with a closure rather
 * than compiled with the class: compiling half as many functions makes a new layout's class
 * markedly cheaper, and a refused write is not a hot path. This runs once per class, on
 * its prototype (never per instance).
 */
function refuseWrites(prototype: object, names: readonly string[]): void {
  for (const name of names) {
    const { get } = Object.getOwnPropertyDescriptor(prototype, name)!;
    Object.defineProperty(prototype, name, { get, set: () => refuseReadOnly(name), configurable: false });
  }
}

/** The non-field members every view has: what it is, and how consoles show it. */
function describeView(prototype: object, type: CompositeType, guarantee: number, readOnly: boolean): void {
  Object.defineProperties(prototype, {
    $t: { value: type },
    $g: { value: guarantee },
    $ro: { value: readOnly },
    // JSON.stringify(view): the values of $read(), with 64-bit integers as decimal strings.
    toJSON: {
      value(this: View) {
        return jsonValue(this.$read());
      },
    },
    [Symbol.for("nodejs.util.inspect.custom")]: {
      value(this: View, _depth: number, options: unknown, inspect: (value: unknown, options: unknown) => string) {
        return inspect(this.$read(), options);
      },
    },
    [Symbol.for("Deno.customInspect")]: {
      value(this: View, inspect: (value: unknown, options: unknown) => string, options: unknown) {
        return inspect(this.$read(), options);
      },
    },
  });
}
