/**
 * pgvector for the embedded database with a SIMD inner product.
 *
 * PGlite's pgvector (a WebAssembly side module, `lib/postgresql/vector.so` in the extension
 * bundle) is compiled without WebAssembly SIMD: its inner product adds one float at a time in a
 * single dependent chain (~1.4 µs for 1,536 dimensions here). An HNSW search or insert with
 * cosine distance spends most of its time there — `vector_cosine_ops` walks the graph with
 * `vector_negative_inner_product` on normalized vectors — and WebAssembly SIMD (Node ≥ 16) does
 * the same sum with four independent 4-lane accumulators.
 *
 * So, before PGlite loads the bundle, the body of `vector_negative_inner_product` is replaced by
 * one that detoasts its arguments where the original does, checks that their dimensions agree and
 * sums their products 16 floats at a time (the tail one by one). It reads a varlena header itself
 * and calls pg_detoast_datum only for a value that is not plain (short, compressed or out of
 * line), which is what that function checks first: an HNSW walk, whose vectors are plain index
 * tuples, then makes no call into the main module per distance (6–7% off a filtered search on
 * the 10,000 × 1,536 bench, paired runs). On a dimension mismatch it calls the original body,
 * kept as an extra function, which raises pgvector's own error. Nothing else in the module
 * changes: no import, memory, table or data segment moves, so the dynamic linker sees the same
 * module with one more function.
 *
 * NB: the patch is applied only to the exact function body it was written against (its SHA-256
 * below): the new body reads the call's arguments at the offsets that build used. Any other
 * pgvector build loads unchanged, and `simd` says so (doctor reports it). Sums run in another
 * order than the scalar loop's, so distances may differ in the last float bits, as between
 * pgvector's own x86 builds with and without AVX.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Extension } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';

/**
 * The functions replaced, each with the SHA-256 of its original body (locals and code) in
 * @electric-sql/pglite-pgvector 0.0.15 (pgvector 0.8.7). NB: halfvec's twin was tried too (halves
 * converted with SIMD integer ops): a halfvec HNSW index is half the size but no faster here — a
 * search's time is pgvector's per-node work (buffers, visited set, candidate heaps), not the sum —
 * and Infinity stores no halfvec columns, so it is left as it is.
 */
const TARGETS = [{ name: 'vector_negative_inner_product', body: '6e05270b5c64c3cff766f180f694d8671d451338740bad4155cd926aa4a559d7' }] as const;
const SO_PATH = 'lib/postgresql/vector.so';

export interface VectorExtension {
  /** Whether the SIMD inner product is in; when not, why. */
  simd: boolean;
  reason?: string;
  /**
   * Runs `open` with the extension to hand PGlite. PGlite reads an extension bundle from a file
   * while it starts: the patched one is written to a private temporary folder for that call and
   * removed when it returns.
   */
  use<T>(open: (extension: Extension) => Promise<T>): Promise<T>;
}

let memo: VectorExtension | undefined;

/**
 * The pgvector extension for PGlite, with the SIMD inner product where the build is the known one
 * (else the stock extension, and why). Patched once per process.
 */
export function simdVectorExtension(): VectorExtension {
  memo ??= build();
  return memo;
}

function build(): VectorExtension {
  let bundle: Buffer;
  try {
    const stock = fileURLToPath(new URL('./vector.tar.gz', import.meta.resolve('@electric-sql/pglite-pgvector')));
    const tar = gunzipSync(readFileSync(stock));
    const so = tarEntry(tar, SO_PATH);
    if (!so) throw new Error(`${SO_PATH} is not in the pgvector bundle`);
    bundle = gzipSync(replaceTarEntry(tar, so, patchInnerProduct(so.data)), { level: 1 });
  } catch (err) {
    return { simd: false, reason: err instanceof Error ? err.message : String(err), use: (open) => open(vector) };
  }
  return {
    simd: true,
    use: async (open) => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'infinity-pgvector-'));
      try {
        const file = path.join(dir, 'vector.tar.gz');
        writeFileSync(file, bundle, { mode: 0o600 });
        const bundlePath = pathToFileURL(file);
        return await open({ name: 'vector', setup: async (_pg, emscriptenOpts: unknown) => ({ emscriptenOpts, bundlePath }) });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

// ── tar (ustar): find one entry and replace its data ─────────────────────────────────────────

interface TarEntry {
  header: number;
  data: Buffer;
}

function tarEntry(tar: Buffer, suffix: string): TarEntry | undefined {
  for (let at = 0; at + 512 <= tar.length;) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) return undefined;
    const field = (from: number, len: number) =>
      header
        .subarray(from, from + len)
        .toString('latin1')
        .replace(/\0.*$/s, '');
    const name = [field(345, 155), field(0, 100)].filter(Boolean).join('/');
    const size = Number.parseInt(field(124, 12).trim() || '0', 8);
    if (name.endsWith(suffix) && (header[156] === 0x30 || header[156] === 0)) return { header: at, data: tar.subarray(at + 512, at + 512 + size) };
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return undefined;
}

/** The data of the first regular file whose path ends with `suffix`. */
export const readTarEntry = (tar: Buffer, suffix: string): Buffer | undefined => tarEntry(tar, suffix)?.data;

function replaceTarEntry(tar: Buffer, entry: TarEntry, data: Buffer): Buffer {
  const header = Buffer.from(tar.subarray(entry.header, entry.header + 512));
  header.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124, 12, 'latin1');
  header.fill(0x20, 148, 156);
  const sum = header.reduce((s, b) => s + b, 0);
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  const padded = Buffer.alloc(Math.ceil(data.length / 512) * 512);
  data.copy(padded);
  const after = entry.header + 512 + Math.ceil(entry.data.length / 512) * 512;
  return Buffer.concat([tar.subarray(0, entry.header), header, padded, tar.subarray(after)]);
}

// ── WebAssembly: LEB128 and sections ─────────────────────────────────────────────────────────

class Reader {
  constructor(
    readonly buf: Buffer,
    public at = 0,
  ) {}
  u8() {
    return this.buf[this.at++]!;
  }
  u32() {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.u8();
      result |= (b & 0x7f) << shift;
      if (!(b & 0x80)) return result >>> 0;
      shift += 7;
    }
  }
  name() {
    const len = this.u32();
    const s = this.buf.toString('utf8', this.at, this.at + len);
    this.at += len;
    return s;
  }
}

const u32 = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
const s32 = (n: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) return [...out, b];
    out.push(b | 0x80);
  }
};
const vec = (items: number[][]) => [...u32(items.length), ...items.flat()];

interface Section {
  id: number;
  payload: Buffer;
}

function sections(wasm: Buffer): Section[] {
  if (wasm.readUInt32LE(0) !== 0x6d736100 || wasm.readUInt32LE(4) !== 1) throw new Error('vector.so is not a WebAssembly module');
  const out: Section[] = [];
  const r = new Reader(wasm, 8);
  while (r.at < wasm.length) {
    const id = r.u8();
    const size = r.u32();
    out.push({ id, payload: wasm.subarray(r.at, r.at + size) });
    r.at += size;
  }
  return out;
}

/** Function bodies of the code section, each as its raw bytes (locals and code). */
function bodies(code: Buffer): Buffer[] {
  const r = new Reader(code);
  return Array.from({ length: r.u32() }, () => {
    const size = r.u32();
    r.at += size;
    return code.subarray(r.at - size, r.at);
  });
}

/** Replaces each of TARGETS with its SIMD body; each original stays, as a new function at the end. */
export function patchInnerProduct(wasm: Buffer): Buffer {
  const secs = sections(wasm);
  const section = (id: number) => {
    const s = secs.find((x) => x.id === id);
    if (!s) throw new Error(`vector.so has no section ${id}`);
    return s;
  };
  // Imported functions come first in the function index space.
  const imports = new Map<string, number>();
  let importedFunctions = 0;
  {
    const r = new Reader(section(2).payload);
    for (let n = r.u32(); n > 0; n--) {
      const module = r.name();
      const field = r.name();
      const kind = r.u8();
      if (kind === 0) {
        imports.set(`${module}.${field}`, importedFunctions++);
        r.u32();
      } else if (kind === 1) {
        r.u8();
        limits(r);
      } else if (kind === 2) limits(r);
      else if (kind === 3) r.at += 2;
      else throw new Error(`vector.so imports an unknown kind ${kind}`);
    }
  }
  const exports = new Map<string, number>();
  {
    const r = new Reader(section(7).payload);
    for (let n = r.u32(); n > 0; n--) {
      const field = r.name();
      const kind = r.u8();
      const index = r.u32();
      if (kind === 0) exports.set(field, index);
    }
  }
  const detoast = imports.get('env.pg_detoast_datum');
  const float8 = imports.get('env.Float8GetDatum');
  if (detoast === undefined || float8 === undefined) throw new Error('vector.so does not import what its distance functions call');
  const funcs = new Reader(section(3).payload);
  const types = Array.from({ length: funcs.u32() }, () => funcs.u32());
  const code = bodies(section(10).payload);
  const bodiesOut = [...code];
  const originals: Buffer[] = [];
  const originalTypes: number[] = [];
  for (const t of TARGETS) {
    const index = exports.get(t.name);
    if (index === undefined || index < importedFunctions) throw new Error(`vector.so does not export ${t.name}`);
    const local = index - importedFunctions;
    const original = code[local]!;
    const digest = createHash('sha256').update(original).digest('hex');
    if (digest !== t.body) throw new Error(`${t.name} is not the build the SIMD body was written for (body ${digest.slice(0, 12)})`);
    bodiesOut[local] = innerProductBody({ detoast, float8, original: importedFunctions + types.length + originals.length });
    originals.push(original);
    originalTypes.push(types[local]!);
  }
  const newCode = [...bodiesOut, ...originals].map((b) => [...u32(b.length), ...b]);
  const rebuilt = secs.map((s) => {
    if (s.id === 3) return { id: 3, payload: Buffer.from(vec([...types, ...originalTypes].map(u32))) };
    if (s.id === 10) return { id: 10, payload: Buffer.from(vec(newCode)) };
    return s;
  });
  return Buffer.concat([wasm.subarray(0, 8), ...rebuilt.flatMap((s) => [Buffer.from([s.id, ...u32(s.payload.length)]), s.payload])]);
}

function limits(r: Reader) {
  const flags = r.u8();
  r.u32();
  if (flags & 1) r.u32();
}

// ── the SIMD body ─────────────────────────────────────────────────────────────────────────────

const op = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  return: 0x0f,
  call: 0x10,
  get: 0x20,
  set: 0x21,
  tee: 0x22,
  i32Load: 0x28,
  f32Load: 0x2a,
  i32Load8u: 0x2d,
  i32Load16s: 0x2e,
  i32Load16u: 0x2f,
  i32Const: 0x41,
  i32GeU: 0x4f,
  i32Ne: 0x47,
  i32Add: 0x6a,
  i32And: 0x71,
  i32Shl: 0x74,
  f32Neg: 0x8c,
  f32Add: 0x92,
  f32Mul: 0x94,
  f64PromoteF32: 0xbb,
  void: 0x40,
  i32: 0x7f,
  f32: 0x7d,
  v128: 0x7b,
} as const;
/** WebAssembly SIMD opcodes (0xfd prefix). */
const simdOp = { load: [0xfd, 0x00], f32x4ExtractLane: [0xfd, 0x1f], f32x4Add: [0xfd, 0xe4, 0x01], f32x4Mul: [0xfd, 0xe6, 0x01] } as const;

/**
 * (fcinfo) → Datum, as `Datum vector_negative_inner_product(PG_FUNCTION_ARGS)` in pgvector's
 * vector.c: the arguments' datums are at fcinfo + 20 and + 28 (wasm32 NullableDatum), a vector is
 * { int32 vl_len_; int16 dim; int16 unused; float x[] }.
 */
function innerProductBody(ix: { detoast: number; float8: number; original: number }): Buffer {
  // Locals: 0 fcinfo (the parameter), 1 a, 2 b, 3 byte length, 4 byte offset, 5 end of the
  // 64-byte blocks, 6–9 accumulators, 10 the sum.
  const [FCINFO, A, B, LEN, I, END, ACC, SUM] = [0, 1, 2, 3, 4, 5, 6, 10];
  const mem = (align: number, offset: number) => [...u32(align), ...u32(offset)];
  // An argument goes through pg_detoast_datum only when VARATT_IS_EXTENDED (little-endian: the
  // first byte's low two bits are set), as the module comment says.
  const arg = (offset: number, local: number) => [
    op.get,
    FCINFO,
    op.i32Load,
    ...mem(2, offset),
    op.tee,
    local,
    op.i32Load8u,
    ...mem(0, 0),
    op.i32Const,
    ...s32(3),
    op.i32And,
    op.if,
    op.void,
    op.get,
    local,
    op.call,
    ...u32(ix.detoast),
    op.set,
    local,
    op.end,
  ];
  const code: number[] = [
    ...arg(20, A),
    ...arg(28, B),
    // Dimensions differ: the original raises pgvector's error.
    op.get,
    A,
    op.i32Load16u,
    ...mem(1, 4),
    op.get,
    B,
    op.i32Load16u,
    ...mem(1, 4),
    op.i32Ne,
    op.if,
    op.void,
    op.get,
    FCINFO,
    op.call,
    ...u32(ix.original),
    op.return,
    op.end,
    op.get,
    A,
    op.i32Load16s,
    ...mem(1, 4),
    op.i32Const,
    ...s32(2),
    op.i32Shl,
    op.set,
    LEN,
    op.get,
    A,
    op.i32Const,
    ...s32(8),
    op.i32Add,
    op.set,
    A,
    op.get,
    B,
    op.i32Const,
    ...s32(8),
    op.i32Add,
    op.set,
    B,
    op.get,
    LEN,
    op.i32Const,
    ...s32(-64),
    op.i32And,
    op.set,
    END,
    op.block,
    op.void,
    op.loop,
    op.void,
    op.get,
    I,
    op.get,
    END,
    op.i32GeU,
    op.brIf,
    1,
    ...[0, 1, 2, 3].flatMap((k) => [
      op.get,
      ACC + k,
      op.get,
      A,
      op.get,
      I,
      op.i32Add,
      ...simdOp.load,
      ...mem(2, 16 * k),
      op.get,
      B,
      op.get,
      I,
      op.i32Add,
      ...simdOp.load,
      ...mem(2, 16 * k),
      ...simdOp.f32x4Mul,
      ...simdOp.f32x4Add,
      op.set,
      ACC + k,
    ]),
    op.get,
    I,
    op.i32Const,
    ...s32(64),
    op.i32Add,
    op.set,
    I,
    op.br,
    0,
    op.end,
    op.end,
    // ((acc0 + acc1) + (acc2 + acc3)), then its four lanes pairwise.
    op.get,
    ACC,
    op.get,
    ACC + 1,
    ...simdOp.f32x4Add,
    op.get,
    ACC + 2,
    op.get,
    ACC + 3,
    ...simdOp.f32x4Add,
    ...simdOp.f32x4Add,
    op.tee,
    ACC,
    ...simdOp.f32x4ExtractLane,
    0,
    op.get,
    ACC,
    ...simdOp.f32x4ExtractLane,
    1,
    op.f32Add,
    op.get,
    ACC,
    ...simdOp.f32x4ExtractLane,
    2,
    op.get,
    ACC,
    ...simdOp.f32x4ExtractLane,
    3,
    op.f32Add,
    op.f32Add,
    op.set,
    SUM,
    // The tail (dimensions not a multiple of 16), one float at a time.
    op.block,
    op.void,
    op.loop,
    op.void,
    op.get,
    I,
    op.get,
    LEN,
    op.i32GeU,
    op.brIf,
    1,
    op.get,
    SUM,
    op.get,
    A,
    op.get,
    I,
    op.i32Add,
    op.f32Load,
    ...mem(2, 0),
    op.get,
    B,
    op.get,
    I,
    op.i32Add,
    op.f32Load,
    ...mem(2, 0),
    op.f32Mul,
    op.f32Add,
    op.set,
    SUM,
    op.get,
    I,
    op.i32Const,
    ...s32(4),
    op.i32Add,
    op.set,
    I,
    op.br,
    0,
    op.end,
    op.end,
    op.get,
    SUM,
    op.f32Neg,
    op.f64PromoteF32,
    op.call,
    ...u32(ix.float8),
    op.end,
  ];
  const locals = vec([
    [...u32(5), op.i32],
    [...u32(4), op.v128],
    [...u32(1), op.f32],
  ]);
  return Buffer.from([...locals, ...code]);
}
