/**
 * Random projection matrices W ∈ ℝ^{m×d} (docs/formulas.md §2), drawn in float64 from an explicit
 * seed through the project's one generator (src/random.ts).
 */
import { Rng } from '../random.ts';

export const FEATURE_TYPES = ['iid', 'orthogonal', 'orthogonal-fixed', 'sorf', 'sorf-fixed'] as const;
export type FeatureType = (typeof FEATURE_TYPES)[number];

/** What each projection is, for `performer kernels --verbose` (measured bias: docs/error.md). */
export const FEATURE_TYPE_NOTES: Readonly<Record<FeatureType, string>> = {
  iid: 'rows N(0, I_d): unbiased',
  orthogonal: 'Haar-orthogonal d×d blocks, each row rescaled to an independent χ_d norm: unbiased, lower MSE where ‖x+y‖² is small (Theorem 2)',
  'orthogonal-fixed':
    "the same directions with every row norm √d (the reference code's SMREG): BIASED for the softmax kernel; its bias grows with the input scale (measure it: performer error --target kernel --feature-types orthogonal-fixed)",
  sorf: 'structured orthogonal blocks √p·H D1 H D2 H D3 (Walsh–Hadamard, random signs; d zero-padded to p = 2^⌈log2 d⌉; Yu et al. 2016), each row rescaled to an independent χ_p norm: O(m) random numbers instead of an O(d³) orthogonalisation; unbiased within Monte-Carlo error',
  'sorf-fixed': 'the same structured blocks with every row norm √p: BIASED for the softmax kernel like orthogonal-fixed (docs/formulas.md §7)',
};

/** A d×d matrix with orthonormal rows: Gram–Schmidt, applied twice, to the rows of a Gaussian matrix. */
export function orthogonalBlock(rng: Rng, d: number): Float64Array {
  const g = new Float64Array(d * d);
  for (let i = 0; i < d * d; i++) g[i] = rng.gaussian();
  for (let i = 0; i < d; i++) {
    for (let pass = 0; pass < 2; pass++) {
      for (let j = 0; j < i; j++) {
        let dot = 0;
        for (let c = 0; c < d; c++) dot += g[i * d + c]! * g[j * d + c]!;
        for (let c = 0; c < d; c++) g[i * d + c]! -= dot * g[j * d + c]!;
      }
    }
    let norm = 0;
    for (let c = 0; c < d; c++) norm += g[i * d + c]! ** 2;
    norm = Math.sqrt(norm);
    for (let c = 0; c < d; c++) g[i * d + c]! /= norm;
  }
  return g;
}

/**
 * Draws W [m, d] (row-major, float64).
 * - iid: entries N(0, 1).
 * - orthogonal: ⌊m/d⌋ orthogonal d×d blocks plus the first rows of one more, each row rescaled
 *   to the norm of an independent N(0, I_d) vector (χ(d)), which keeps the estimator unbiased.
 * - orthogonal-fixed: the same directions, every row norm √d (SMREG).
 * Draw order (part of the seed's meaning): blocks first, then the m χ-norm vectors.
 */
export function projectionMatrix(m: number, d: number, type: FeatureType, seed: number): Float64Array {
  const rng = new Rng(seed);
  if (type === 'sorf' || type === 'sorf-fixed') return sorfMatrix(rng, m, d, type === 'sorf');
  const w = new Float64Array(m * d);
  if (type === 'iid') {
    for (let i = 0; i < m * d; i++) w[i] = rng.gaussian();
    return w;
  }
  for (let row = 0; row < m; row += d) {
    const block = orthogonalBlock(rng, d);
    w.set(block.subarray(0, Math.min(d, m - row) * d), row * d);
  }
  for (let i = 0; i < m; i++) {
    let norm = Math.sqrt(d);
    if (type === 'orthogonal') {
      let sq = 0;
      for (let c = 0; c < d; c++) sq += rng.gaussian() ** 2;
      norm = Math.sqrt(sq);
    }
    for (let c = 0; c < d; c++) w[i * d + c]! *= norm;
  }
  return w;
}

/** The smallest power of two ≥ d: SORF's padded width p. */
export const sorfWidth = (d: number): number => 2 ** Math.ceil(Math.log2(d));

/**
 * In-place unnormalised fast Walsh–Hadamard transform of x (length a power of two): x ← F x with
 * F_ij = (−1)^popcount(i&j), so F/√p is the normalised H of SORF.
 */
export function fwht(x: Float64Array): void {
  for (let h = 1; h < x.length; h *= 2)
    for (let i = 0; i < x.length; i += 2 * h)
      for (let j = i; j < i + h; j++) {
        const a = x[j]!;
        const b = x[j + h]!;
        x[j] = a + b;
        x[j + h] = a - b;
      }
}

/**
 * One SORF block √p·H D1 H D2 H D3 [p, p] (Yu et al. 2016, §4; docs/formulas.md §7), H the
 * normalised Walsh–Hadamard matrix, D_k diagonal Rademacher signs drawn D1, D2, D3 in that order.
 * Column j is the block applied to e_j; rows are orthogonal with norm √p.
 */
export function sorfBlock(rng: Rng, p: number): Float64Array {
  const signs = [0, 1, 2].map(() => Float64Array.from({ length: p }, () => (rng.nextU32() & 1 ? 1 : -1)));
  const block = new Float64Array(p * p);
  const col = new Float64Array(p);
  for (let j = 0; j < p; j++) {
    col.fill(0);
    col[j] = 1;
    for (const d of [signs[2]!, signs[1]!, signs[0]!]) {
      for (let i = 0; i < p; i++) col[i]! *= d[i]!;
      fwht(col);
    }
    // Three normalised transforms contribute p^(-3/2); times √p gives 1/p.
    for (let i = 0; i < p; i++) block[i * p + j] = col[i]! / p;
  }
  return block;
}

/**
 * W [m, d] from ⌈m/p⌉ stacked SORF blocks (first m rows, first d columns: zero-padding x to p
 * leaves only these columns in play). `chi`: each row r rescaled by s_r/√p with s_r ~ χ_p drawn
 * after all blocks, so a Haar direction would give exactly N(0, I_p) rows ('sorf'); otherwise
 * every full row keeps norm √p ('sorf-fixed', biased like orthogonal-fixed).
 */
function sorfMatrix(rng: Rng, m: number, d: number, chi: boolean): Float64Array {
  const p = sorfWidth(d);
  const w = new Float64Array(m * d);
  for (let row = 0; row < m; row += p) {
    const block = sorfBlock(rng, p);
    for (let i = 0; i < Math.min(p, m - row); i++) for (let c = 0; c < d; c++) w[(row + i) * d + c] = block[i * p + c]!;
  }
  if (!chi) return w;
  for (let i = 0; i < m; i++) {
    let sq = 0;
    for (let c = 0; c < p; c++) sq += rng.gaussian() ** 2;
    const scale = Math.sqrt(sq / p);
    for (let c = 0; c < d; c++) w[i * d + c]! *= scale;
  }
  return w;
}
