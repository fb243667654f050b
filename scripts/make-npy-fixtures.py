#!/usr/bin/env python3
"""Writes test/fixtures/npy/: small arrays saved by numpy itself, for src/io/npy.ts's tests.

Run once (numpy >= 1.17); the files are committed. Values are exact in float16 where the file is
float16, so the test compares exactly; every file holds arange-based data the test recomputes:
a[i] = (i - 7) / 8 in C order of its shape (i the C-order flat index).
"""
import os

import numpy as np
from numpy.lib import format as npformat

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'npy')
os.makedirs(OUT, exist_ok=True)


def values(shape, dtype):
    n = int(np.prod(shape))
    return ((np.arange(n) - 7) / 8).reshape(shape).astype(dtype)


def path(name):
    return os.path.join(OUT, name)


# Version 1.0 headers (np.save picks 1.0 for small headers), C order, little-endian.
np.save(path('v1-f4.npy'), values((2, 3, 4), '<f4'))
np.save(path('v1-f8.npy'), values((5, 3), '<f8'))
np.save(path('v1-f2.npy'), values((4, 6), '<f2'))
np.save(path('scalar-f4.npy'), values((), '<f4'))
np.save(path('vector-f4.npy'), values((9,), '<f4'))
# Version 2.0 and 3.0 headers, written explicitly.
with open(path('v2-f4.npy'), 'wb') as f:
    npformat.write_array(f, values((3, 2, 2), '<f4'), version=(2, 0))
with open(path('v3-f4.npy'), 'wb') as f:
    npformat.write_array(f, values((2, 5), '<f4'), version=(3, 0))
# Fortran order: the same logical values, column-major on disk.
np.save(path('fortran-f4.npy'), np.asfortranarray(values((2, 3, 4), '<f4')))
# Refused: big-endian, integer and complex arrays.
np.save(path('big-endian-f4.npy'), values((2, 3), '>f4'))
np.save(path('int32.npy'), np.arange(6, dtype='<i4').reshape(2, 3))
np.save(path('complex64.npy'), np.ones((2,), dtype='<c8'))
# .npz: stored (savez) and deflated (savez_compressed), q/k/v of shape [B, H, L, d] = [2, 2, 3, 4].
shape = (2, 2, 3, 4)
q, k, v = values(shape, '<f4'), -values(shape, '<f4'), values(shape, '<f4') * 2
np.savez(path('qkv.npz'), q=q, k=k, v=v)
np.savez_compressed(path('qkv-compressed.npz'), q=q, k=k, v=v)
np.savez(path('no-qk.npz'), queries=q, values=v)
print('wrote', sorted(os.listdir(OUT)))

# The other direction: performer-written.npz is what src/io/npz.ts's writeNpz writes (test/npy.test.ts
# checks its bytes); numpy must open it, CRC-32s checked, with the values the test wrote.
written = path('performer-written.npz')
if os.path.exists(written):
    import zipfile
    assert zipfile.ZipFile(written).testzip() is None, 'bad CRC in performer-written.npz'
    with np.load(written) as z:
        assert z.files == ['l0.q', 'mask'], z.files
        assert np.array_equal(z['l0.q'], values((1, 2, 3, 4), '<f4'))
        assert np.array_equal(z['mask'], np.array([[1, 1, 0]], dtype='<f4'))
    print('numpy reads performer-written.npz')
