/**
 * src/io/npy.ts and npz.ts against files numpy wrote (test/fixtures/npy/, made by
 * scripts/make-npy-fixtures.py). Every fixture holds a[i] = (i − 7)/8 at C-order flat index i:
 * multiples of 1/8 of magnitude < 64 are exact in float16, float32 and float64, so every
 * comparison here is exact (no tolerance).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { halfToNumber, NpyError, readNpy, writeNpy } from '../src/io/npy.ts';
import { npzNames, readNpz, writeNpz } from '../src/io/npz.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/npy/${name}`, import.meta.url));
const expected = (n: number, scale = 1) => Float32Array.from({ length: n }, (_, i) => ((i - 7) / 8) * scale);

describe('readNpy: numpy-written files', () => {
  const cases: [string, number[], string[]][] = [
    ['v1-f4.npy', [2, 3, 4], []],
    ['v1-f8.npy', [5, 3], ['float64 converted to float32']],
    ['v1-f2.npy', [4, 6], ['float16 converted to float32']],
    ['v2-f4.npy', [3, 2, 2], []],
    ['v3-f4.npy', [2, 5], []],
    ['scalar-f4.npy', [], []],
    ['vector-f4.npy', [9], []],
    ['fortran-f4.npy', [2, 3, 4], ['Fortran order read as C order']],
  ];
  for (const [name, shape, notes] of cases) {
    it(`${name}: shape ${JSON.stringify(shape)}, values exact`, () => {
      const a = readNpy(fixture(name));
      assert.deepEqual(a.shape, shape);
      assert.deepEqual(a.data, expected(shape.reduce((x, y) => x * y, 1)));
      assert.deepEqual(a.notes, notes);
    });
  }
  it('the version bytes of the fixtures are what they claim (1.0, 2.0, 3.0)', () => {
    assert.deepEqual([fixture('v1-f4.npy')[6], fixture('v2-f4.npy')[6], fixture('v3-f4.npy')[6]], [1, 2, 3]);
  });
  it('refuses big-endian, integer and complex arrays, naming the dtype', () => {
    assert.throws(
      () => readNpy(fixture('big-endian-f4.npy')),
      (e: Error) => e instanceof NpyError && /'>f4' is big-endian/.test(e.message),
    );
    assert.throws(
      () => readNpy(fixture('int32.npy')),
      (e: Error) => e instanceof NpyError && /'<i4' is not a float array/.test(e.message),
    );
    assert.throws(
      () => readNpy(fixture('complex64.npy')),
      (e: Error) => e instanceof NpyError && /'<c8'/.test(e.message),
    );
  });
  it('refuses a file that is not .npy, and one cut short', () => {
    assert.throws(() => readNpy(Buffer.from('hello world, not numpy')), /no \\x93NUMPY magic/);
    const f = fixture('v1-f4.npy');
    assert.throws(() => readNpy(f.subarray(0, f.length - 4)), /needs 96 data bytes, the file holds 92/);
  });
});

describe('halfToNumber', () => {
  it('decodes the special values and a subnormal', () => {
    assert.deepEqual([0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00, 0xfc00].map(halfToNumber), [1, -2, 65504, 2 ** -24, Infinity, -Infinity]);
    assert.ok(Number.isNaN(halfToNumber(0x7e00)));
  });
});

describe('writeNpy', () => {
  it('writes the bytes np.save writes (version 1.0 header, 64-byte alignment)', () => {
    assert.deepEqual(writeNpy([2, 3, 4], expected(24)), fixture('v1-f4.npy'));
    assert.deepEqual(writeNpy([9], expected(9)), fixture('vector-f4.npy'));
    assert.deepEqual(writeNpy([], expected(1)), fixture('scalar-f4.npy'));
  });
  it('refuses data that does not fill the shape', () => {
    assert.throws(() => writeNpy([2, 3], new Float32Array(5)), /has 6 elements, data 5/);
  });
});

describe('npz', () => {
  for (const name of ['qkv.npz', 'qkv-compressed.npz']) {
    it(`${name} (np.savez${name.includes('compressed') ? '_compressed' : ''}): q, k, v exact`, () => {
      const arrays = readNpz(fixture(name));
      assert.deepEqual([...arrays.keys()], ['q', 'k', 'v']);
      for (const [key, scale] of [
        ['q', 1],
        ['k', -1],
        ['v', 2],
      ] as const) {
        assert.deepEqual(arrays.get(key)!.shape, [2, 2, 3, 4]);
        assert.deepEqual(arrays.get(key)!.data, expected(48, scale));
      }
    });
  }
  it('lists member names without reading them', () => assert.deepEqual(npzNames(fixture('no-qk.npz')), ['queries', 'values']));
  it('writeNpz writes performer-written.npz, the file numpy opens (CRC-32s checked) in scripts/make-npy-fixtures.py, and reads it back', () => {
    const arrays = new Map([
      ['l0.q', { shape: [1, 2, 3, 4], data: expected(24) }],
      ['mask', { shape: [1, 3], data: Float32Array.of(1, 1, 0) }],
    ]);
    const bytes = writeNpz(arrays);
    assert.deepEqual(bytes, fixture('performer-written.npz'));
    const back = readNpz(bytes);
    assert.deepEqual([...back.keys()], ['l0.q', 'mask']);
    assert.deepEqual(back.get('l0.q')!.data, expected(24));
    assert.deepEqual(back.get('mask')!.shape, [1, 3]);
  });
  it('refuses a member that is not a float array, naming it', () => {
    const bad = writeNpz(new Map([['q', { shape: [2], data: Float32Array.of(1, 2) }]]));
    // Turn the member's '<f4' into '<i4'.
    const at = bad.indexOf("'<f4'");
    bad.write("'<i4'", at, 'latin1');
    assert.throws(() => readNpz(bad), /array 'q': dtype '<i4' is not a float array/);
  });
});
