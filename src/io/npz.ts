/**
 * NumPy's `.npz`: a zip archive of `.npy` files, one per array (`np.savez` stores them,
 * `np.savez_compressed` deflates them). Read through the central directory, with zip64 sizes
 * (numpy opens every member with force_zip64); written stored, no compression.
 */
import { crc32, inflateRawSync } from 'node:zlib';
import { NpyError, type NpyArray, readNpy, writeNpy } from './npy.ts';

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const MAX32 = 0xffffffff;

interface Member {
  readonly name: string;
  readonly method: number;
  readonly compressed: number;
  readonly size: number;
  readonly offset: number;
}

/** The archive's members from its central directory. */
function members(buf: Buffer): Member[] {
  // The end-of-central-directory record: 22 bytes plus a comment of at most 65535.
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 65535); i--) {
    if (buf.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new NpyError('not a zip archive (no end-of-central-directory record)');
  const entries = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const out: Member[] = [];
  for (let e = 0; e < entries; e++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== CENTRAL) throw new NpyError(`zip central directory entry ${e} is broken`);
    const method = buf.readUInt16LE(p + 10);
    let compressed = buf.readUInt32LE(p + 20);
    let size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    let offset = buf.readUInt32LE(p + 42);
    const name = buf.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    // Zip64 extra field (id 1): the 64-bit values of the fields set to 0xffffffff, in this order.
    for (let x = p + 46 + nameLen; x + 4 <= p + 46 + nameLen + extraLen; ) {
      const id = buf.readUInt16LE(x);
      const len = buf.readUInt16LE(x + 2);
      if (id === 1) {
        let q = x + 4;
        const next = () => {
          const v = Number(buf.readBigUInt64LE(q));
          q += 8;
          return v;
        };
        if (size === MAX32) size = next();
        if (compressed === MAX32) compressed = next();
        if (offset === MAX32) offset = next();
      }
      x += 4 + len;
    }
    out.push({ name, method, compressed, size, offset });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

/** One member's bytes: stored (method 0) or deflated (method 8). */
function memberBytes(buf: Buffer, m: Member): Buffer {
  if (buf.readUInt32LE(m.offset) !== LOCAL) throw new NpyError(`zip member ${m.name}: broken local header`);
  const start = m.offset + 30 + buf.readUInt16LE(m.offset + 26) + buf.readUInt16LE(m.offset + 28);
  const raw = buf.subarray(start, start + m.compressed);
  if (m.method === 0) return raw;
  if (m.method === 8) return inflateRawSync(raw);
  throw new NpyError(`zip member ${m.name} uses compression method ${m.method} (allowed: stored or deflate, as np.savez and np.savez_compressed write)`);
}

/** The names of an `.npz`'s arrays (members without `.npy`), without reading them. */
export function npzNames(bytes: Uint8Array): string[] {
  return members(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).map((m) => m.name.replace(/\.npy$/, ''));
}

/**
 * Every array of an `.npz`, by name (the member name without `.npy`).
 * @throws NpyError naming the member that is not a float array
 */
export function readNpz(bytes: Uint8Array): Map<string, NpyArray> {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Map<string, NpyArray>();
  for (const m of members(buf)) {
    const name = m.name.replace(/\.npy$/, '');
    try {
      out.set(name, readNpy(memberBytes(buf, m)));
    } catch (e) {
      if (e instanceof NpyError) throw new NpyError(`array '${name}': ${e.message}`);
      throw e;
    }
  }
  return out;
}

/** Arrays as a stored (uncompressed) `.npz` that `numpy.load` opens. */
export function writeNpz(arrays: ReadonlyMap<string, { shape: readonly number[]; data: Float32Array }>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, a] of arrays) {
    const data = writeNpy(a.shape, a.data);
    const fname = Buffer.from(`${name}.npy`, 'utf8');
    const crc = crc32(data);
    if (offset + data.length > MAX32) throw new Error('writeNpz: archives over 4 GiB need zip64, not written here');
    const local = Buffer.alloc(30);
    local.writeUInt32LE(LOCAL, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(0, 8); // stored
    local.writeUInt32LE(0x00210000, 10); // 1980-01-01 00:00: a fixed date, so equal arrays give equal bytes
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(fname.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(CENTRAL, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    local.copy(central, 8, 6, 26); // flags, method, time, date, crc, sizes
    central.writeUInt16LE(fname.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, fname, data);
    centrals.push(central, fname);
    offset += 30 + fname.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(EOCD, 0);
  end.writeUInt16LE(arrays.size, 8);
  end.writeUInt16LE(arrays.size, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}
