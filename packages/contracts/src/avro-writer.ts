/**
 * A fast path in front of avsc's encoder: a plain function per Avro record type, generated once
 * from the avsc Type compiled from the topic's .avsc (so the schema file stays the one source of
 * truth), that writes exactly the bytes avsc's `type.encode` writes, or refuses.
 *
 * avsc's writer dispatches every field through its type object, a Tap and a union's bucket
 * lookup, and sizes every string with Buffer.byteLength before writing it char by char: about
 * 1.4 µs per segment change, ~7% of the segmenter's CPU. Here the fields are read by name in
 * one generated function, and strings that are ASCII (ids, times, reasons, topic names: nearly
 * all of them) are written in one pass whose length is their byte length. Anything else is
 * written as avsc writes it (same sizing, same bytes, lone surrogates included).
 *
 * The writer only ever says "these are avsc's bytes"; for a value it does not cover exactly as
 * avsc would (a wrong type, a missing field, an unknown enum symbol) it returns REFUSED and the
 * caller asks avsc, which encodes it or throws its error as it always did. avro-writer.test.ts
 * proves on generated events (non-ASCII, lone surrogates, nulls, absent defaults, extreme
 * numbers, wrong types) that both write the same bytes.
 *
 * Only what the contracts use compiles: records (fields with or without defaults), string,
 * enum, int, long, boolean, null, and two-branch unions of null and one of those. Anything else
 * (arrays, maps, bytes, floats, logical types, wider unions) makes compileWriter return null,
 * decided once per schema: avsc alone.
 */
import type { AvroType } from './avro.ts';
import { REFUSED } from './refused.ts';

/**
 * Writes `value` as Avro from `pos` of `buf` and returns where it ends, or REFUSED. An end past
 * `buf.length` means `buf` was too short: nothing was written past its end, and the caller
 * writes again into a buffer of at least that size (as with avsc's negative result).
 */
export type AvroWriter = (buf: Buffer, pos: number, value: unknown) => number | typeof REFUSED;

/** The parts of avsc's Type objects read here (its public introspection API). */
interface TypeLike {
  readonly typeName: string;
  readonly fields?: readonly FieldLike[];
  readonly symbols?: readonly string[];
  readonly types?: readonly TypeLike[];
  toBuffer(value: unknown): Buffer;
}
interface FieldLike {
  readonly name: string;
  readonly type: TypeLike;
  defaultValue(): unknown;
}

/** The writer of a record `type`, or null when the schema uses something the fast path does not mirror. */
export function compileWriter(type: AvroType): AvroWriter | null {
  const root = type as unknown as TypeLike;
  if (root.typeName !== 'record') return null;
  const gen = new Generator();
  const body = gen.value(root, 'v');
  if (body === null) return null;
  const code = ['return function write(buf, pos, v) {', '  let x;', ...body.map((line) => `  ${line}`), '  return pos;', '};'].join('\n');
  return new Function('REFUSED', 'helpers', 'consts', code)(REFUSED, helpers, gen.consts) as AvroWriter;
}

/**
 * Emits the statements that write one value (held in the expression `v`) and advance `pos`,
 * or `return REFUSED` where avsc would do anything but write it as this code does.
 */
class Generator {
  /** Values the code refers to by index: enum symbol tables and default bytes. */
  readonly consts: unknown[] = [];
  private vars = 0;
  /** Records being generated: one that contains itself is left to avsc. */
  private readonly open = new Set<TypeLike>();

  value(type: TypeLike, v: string): string[] | null {
    switch (type.typeName) {
      case 'null':
        return [`if (${v} !== null) return REFUSED;`];
      case 'boolean':
        return [`if (typeof ${v} !== "boolean") return REFUSED;`, `buf[pos++] = ${v} ? 1 : 0;`];
      case 'int':
        return [`if (${v} !== (${v} | 0)) return REFUSED;`, `pos = helpers.writeLong(buf, pos, ${v});`];
      case 'long':
        return [`if (!helpers.isAvscLong(${v})) return REFUSED;`, `pos = helpers.writeLong(buf, pos, ${v});`];
      case 'string':
        return [`if (typeof ${v} !== "string") return REFUSED;`, `pos = helpers.writeString(buf, pos, ${v});`];
      case 'enum':
        return this.enumValue(type.symbols ?? [], v);
      case 'union:unwrapped':
        return this.nullableValue(type.types ?? [], v);
      case 'record': {
        if (this.open.has(type)) return null;
        this.open.add(type);
        const lines = this.recordValue(type.fields ?? [], v);
        this.open.delete(type);
        return lines;
      }
      default:
        return null;
    }
  }

  /** avsc writes the symbol's index; a value that is not one of the symbols is refused. */
  private enumValue(symbols: readonly string[], v: string): string[] {
    const index = new Map(symbols.map((s, i) => [s, i]));
    const table = this.constant(index);
    const i = this.variable();
    return [
      `const ${i} = typeof ${v} === "string" ? ${table}.get(${v}) : undefined;`,
      `if (${i} === undefined) return REFUSED;`,
      `pos = helpers.writeLong(buf, pos, ${i});`,
    ];
  }

  /** ["null", T] or [T, "null"]: the branch index, then T's value unless null. */
  private nullableValue(branches: readonly TypeLike[], v: string): string[] | null {
    if (branches.length !== 2) return null;
    const nullIndex = branches.findIndex((b) => b.typeName === 'null');
    const other = branches[1 - nullIndex];
    if (nullIndex < 0 || other === undefined || other.typeName === 'null' || other.typeName.startsWith('union')) return null;
    const inner = this.value(other, v);
    if (inner === null) return null;
    // One byte each: the zig-zag varints of 0 and 1.
    return [`if (${v} === null) { buf[pos++] = ${2 * nullIndex}; } else {`, `  buf[pos++] = ${2 * (1 - nullIndex)};`, ...inner.map((l) => `  ${l}`), '}'];
  }

  /**
   * avsc's record writer: each field in schema order, read once by name; a field with a default
   * whose value is undefined is written as its default's bytes. Arrays and buffers, which an
   * avsc union would not take for a record, are refused.
   */
  private recordValue(fields: readonly FieldLike[], v: string): string[] | null {
    const r = this.variable();
    const lines = [`const ${r} = ${v};`, `if (typeof ${r} !== "object" || ${r} === null || Array.isArray(${r}) || ${r} instanceof Uint8Array) return REFUSED;`];
    for (const field of fields) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(field.name)) return null;
      const f = this.variable();
      const inner = this.value(field.type, f);
      if (inner === null) return null;
      lines.push(`const ${f} = ${r}.${field.name};`);
      const fallback = field.defaultValue();
      if (fallback === undefined) {
        lines.push(...inner);
      } else {
        const bytes = this.constant(field.type.toBuffer(fallback));
        lines.push(`if (${f} === undefined) { pos = helpers.writeBytes(buf, pos, ${bytes}); } else {`, ...inner.map((l) => `  ${l}`), '}');
      }
    }
    return lines;
  }

  private constant(value: unknown): string {
    this.consts.push(value);
    return `consts[${this.consts.length - 1}]`;
  }

  private variable(): string {
    return `x${this.vars++}`;
  }
}

/** avsc's LongType accepts numbers that are integers within ±(2^53 - 2). */
function isAvscLong(n: unknown): boolean {
  return typeof n === 'number' && n % 1 === 0 && n >= -9007199254740990 && n <= 9007199254740990;
}

/** avsc's Tap.writeLong: the zig-zag varint of `n`, integer arithmetic while it cannot overflow. */
function writeLong(buf: Buffer, pos: number, n: number): number {
  if (n >= -1073741824 && n < 1073741824) {
    let m = n >= 0 ? n << 1 : (~n << 1) | 1;
    while (m > 0x7f) {
      buf[pos++] = (m & 0x7f) | 0x80;
      m >>>= 7;
    }
    buf[pos++] = m;
    return pos;
  }
  let f = n >= 0 ? n * 2 : -n * 2 - 1;
  while (f >= 128) {
    buf[pos++] = (f & 0x7f) | 0x80;
    f /= 128;
  }
  buf[pos++] = f & 0x7f;
  return pos;
}

/** From this length on, Buffer's native UTF-8 writer beats a loop over the chars. */
const NATIVE_MIN = 12;

/**
 * A string as avsc writes it: its UTF-8 byte length as a varint, then the bytes. An ASCII
 * string's byte length is its length, so it is written in one pass (short ones char by char,
 * longer ones by Buffer's UTF-8 writer, which writes more bytes than chars for anything but
 * ASCII); any other string is written again from `pos` the way avsc does.
 */
function writeString(buf: Buffer, pos: number, s: string): number {
  const n = s.length;
  const start = writeLong(buf, pos, n);
  if (n >= NATIVE_MIN) {
    // With room for 3 bytes a char, the writer cannot stop early: n bytes means n ASCII chars.
    if (start + 3 * n <= buf.length && buf.write(s, start) === n) return start + n;
    return writeUtf8(buf, pos, s);
  }
  let p = start;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return writeUtf8(buf, pos, s);
    buf[p++] = c;
  }
  return p;
}

/**
 * avsc's Tap.writeString for any string: sized by Buffer.byteLength (a lone surrogate counts
 * 3 bytes), then Buffer's UTF-8 writer above 64 bytes (a lone surrogate becomes U+FFFD) or,
 * up to 64 bytes, avsc's own loop (a lone surrogate becomes its 3-byte WTF-8 form).
 */
function writeUtf8(buf: Buffer, pos: number, s: string): number {
  const len = Buffer.byteLength(s);
  const start = writeLong(buf, pos, len);
  const end = start + len;
  if (end > buf.length) return end;
  if (len > 64) {
    buf.write(s, start, len, 'utf8');
    return end;
  }
  let p = start;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      buf[p++] = c;
    } else if (c < 0x800) {
      buf[p++] = (c >> 6) | 0xc0;
      buf[p++] = (c & 0x3f) | 0x80;
    } else if ((c & 0xfc00) === 0xd800 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      c = 0x10000 + ((c & 0x03ff) << 10) + (s.charCodeAt(++i) & 0x03ff);
      buf[p++] = (c >> 18) | 0xf0;
      buf[p++] = ((c >> 12) & 0x3f) | 0x80;
      buf[p++] = ((c >> 6) & 0x3f) | 0x80;
      buf[p++] = (c & 0x3f) | 0x80;
    } else {
      buf[p++] = (c >> 12) | 0xe0;
      buf[p++] = ((c >> 6) & 0x3f) | 0x80;
      buf[p++] = (c & 0x3f) | 0x80;
    }
  }
  return end;
}

/** Pre-encoded bytes (a field's default). */
function writeBytes(buf: Buffer, pos: number, bytes: Buffer): number {
  for (let i = 0; i < bytes.length; i++) buf[pos++] = bytes[i] as number;
  return pos;
}

const helpers = { isAvscLong, writeLong, writeString, writeBytes };
