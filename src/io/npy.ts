/**
 * NumPy's `.npy` format (numpy.lib.format, versions 1.0, 2.0 and 3.0) for float arrays, read and
 * written without Python: a magic string, a version, a little-endian header length (2 bytes in
 * 1.0, 4 in 2.0/3.0), a Python dict literal `{'descr': '<f4', 'fortran_order': False, 'shape':
 * (2, 3), }` padded with spaces to a multiple of 64 bytes, then the raw data.
 *
 * Read: little-endian float32 as is; float16 and float64 converted to float32 (with a note);
 * Fortran order transposed into C order. Refused with a {@link NpyError}: big-endian data, any
 * other dtype, a broken header or a short file. Written: float32, C order, version 1.0 (2.0 when
 * the header would not fit 1.0's 65535 bytes, as numpy does).
 */

/** A float32 array in C (row-major) order. */
export interface NpyArray {
  readonly shape: readonly number[];
  readonly data: Float32Array;
  /** What the file held when it was not float32 C order (`float64 converted to float32`, …). */
  readonly notes: readonly string[];
}

/** A file that is not an array this reader takes; the message says what it holds and what is allowed. */
export class NpyError extends Error {
  override readonly name = 'NpyError';
}

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

/** Bytes per element of the little-endian float dtypes read. */
const FLOATS: Record<string, { bytes: number; name: string }> = {
  f2: { bytes: 2, name: 'float16' },
  f4: { bytes: 4, name: 'float32' },
  f8: { bytes: 8, name: 'float64' },
};

/** The header's three keys, parsed from its dict literal (the subset of Python literals numpy writes). */
function parseHeader(text: string): { descr: string; fortran: boolean; shape: number[] } {
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shape === undefined)
    throw new NpyError(`header ${JSON.stringify(text.trim())} lacks descr, fortran_order or shape`);
  const dims = shape
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      if (!/^\d+L?$/.test(s)) throw new NpyError(`header shape (${shape}) holds '${s}', not a dimension`);
      return Number.parseInt(s, 10);
    });
  return { descr, fortran: fortran === 'True', shape: dims };
}

/** IEEE half → number (subnormals, ±∞ and NaN included). */
export function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Column-major (Fortran) data of `shape` rewritten in row-major (C) order. */
function fortranToC(src: Float32Array, shape: readonly number[]): Float32Array {
  const n = src.length;
  const out = new Float32Array(n);
  const rank = shape.length;
  const fStride: number[] = [];
  for (let a = 0, s = 1; a < rank; a++) {
    fStride.push(s);
    s *= shape[a]!;
  }
  const idx = new Array<number>(rank).fill(0);
  for (let i = 0; i < n; i++) {
    let f = 0;
    for (let a = 0; a < rank; a++) f += idx[a]! * fStride[a]!;
    out[i] = src[f]!;
    // Advance the C-order multi-index (last axis fastest).
    for (let a = rank - 1; a >= 0; a--) {
      if (++idx[a]! < shape[a]!) break;
      idx[a] = 0;
    }
  }
  return out;
}

/**
 * Parses one `.npy` file's bytes.
 * @throws NpyError naming what the file holds (dtype, byte order, version) and what is allowed
 */
export function readNpy(bytes: Uint8Array): NpyArray {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 10 || !buf.subarray(0, 6).equals(MAGIC)) throw new NpyError('not a NumPy .npy file (no \\x93NUMPY magic)');
  const major = buf[6]!;
  const minor = buf[7]!;
  if (![1, 2, 3].includes(major) || minor !== 0) throw new NpyError(`.npy format version ${major}.${minor} (allowed: 1.0, 2.0, 3.0)`);
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  if (buf.length < start + headerLen) throw new NpyError(`file ends inside its ${headerLen}-byte header`);
  const header = parseHeader(buf.subarray(start, start + headerLen).toString(major === 3 ? 'utf8' : 'latin1'));
  const m = /^([<>|=])?([a-zA-Z]\d*)$/.exec(header.descr);
  const kind = m ? FLOATS[m[2]!] : undefined;
  if (!m || !kind) throw new NpyError(`dtype '${header.descr}' is not a float array (allowed: float32, float16, float64 — '<f4', '<f2', '<f8')`);
  if (m[1] === '>') throw new NpyError(`dtype '${header.descr}' is big-endian (allowed: little-endian '<${m[2]}'; numpy: a.astype('<${m[2]}'))`);
  const count = header.shape.reduce((a, b) => a * b, 1);
  const offset = start + headerLen;
  if (buf.length < offset + count * kind.bytes)
    throw new NpyError(`shape (${header.shape.join(', ')}) needs ${count * kind.bytes} data bytes, the file holds ${buf.length - offset}`);
  // A copy, so the result owns aligned memory whatever the header length.
  const raw = buf.subarray(offset, offset + count * kind.bytes);
  let data: Float32Array = new Float32Array(count);
  if (kind.bytes === 4) for (let i = 0; i < count; i++) data[i] = raw.readFloatLE(4 * i);
  else if (kind.bytes === 8) for (let i = 0; i < count; i++) data[i] = raw.readDoubleLE(8 * i);
  else for (let i = 0; i < count; i++) data[i] = halfToNumber(raw.readUInt16LE(2 * i));
  const notes: string[] = [];
  if (kind.bytes !== 4) notes.push(`${kind.name} converted to float32`);
  if (header.fortran && header.shape.length > 1) {
    data = fortranToC(data, header.shape);
    notes.push('Fortran order read as C order');
  }
  return { shape: header.shape, data, notes };
}

/** A shape as Python writes a tuple: `(3,)`, `(2, 3)`, `()`. */
const tuple = (shape: readonly number[]) => (shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`);

/** One float32 C-order array as `.npy` bytes (version 1.0, or 2.0 for a header over 65535 bytes). */
export function writeNpy(shape: readonly number[], data: Float32Array): Buffer {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new Error(`writeNpy: shape (${shape.join(', ')}) has ${count} elements, data ${data.length}`);
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': ${tuple(shape)}, }`;
  const v1 = dict.length + 1 + 10 <= 65535 + 10;
  const pre = v1 ? 10 : 12;
  // Spaces then a newline, so magic + header is a multiple of 64 bytes (numpy's alignment).
  const total = Math.ceil((pre + dict.length + 1) / 64) * 64;
  const header = `${dict}${' '.repeat(total - pre - dict.length - 1)}\n`;
  const out = Buffer.alloc(total + 4 * count);
  MAGIC.copy(out, 0);
  out[6] = v1 ? 1 : 2;
  out[7] = 0;
  if (v1) out.writeUInt16LE(header.length, 8);
  else out.writeUInt32LE(header.length, 8);
  out.write(header, pre, 'latin1');
  for (let i = 0; i < count; i++) out.writeFloatLE(data[i]!, total + 4 * i);
  return out;
}
