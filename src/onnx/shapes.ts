/** Shape arithmetic shared by the builder and its rewrites (pure). */

type Shape = readonly number[];

/** Numpy-style broadcast of two shapes, or null when they do not broadcast. */
export function broadcastShapes(a: Shape, b: Shape): number[] | null {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return null;
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** The permutation of r axes that swaps the last two. */
export function lastSwap(r: number): number[] {
  const perm = [...Array(r).keys()];
  [perm[r - 2], perm[r - 1]] = [r - 1, r - 2];
  return perm;
}

/** A slice bound as ONNX reads it: negative from the end, clamped to [0, dim]. */
export const sliceIndex = (v: number, dim: number) => Math.min(Math.max(v < 0 ? v + dim : v, 0), dim);
