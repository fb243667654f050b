/**
 * Random projection matrices W ∈ ℝ^{m×d} (docs/formulas.md §2), drawn in float64 from an explicit seed.
 *
 * PRNG: xoshiro128** (Blackman & Vigna 2018) seeded through splitmix32; 32-bit integer ops only,
 * so every machine gets the same bits. Uniforms take 53 bits from two outputs; Gaussians use
 * Box–Muller (V8's Math.log/cos/sin are its own fdlibm ports, identical on every platform).
 */

export const FEATURE_TYPES = ['iid', 'orthogonal', 'orthogonal-fixed'] as const;
export type FeatureType = (typeof FEATURE_TYPES)[number];

/** What each projection is, for `performer kernels --verbose` (measured bias: README, "error and theory"). */
export const FEATURE_TYPE_NOTES: Readonly<Record<FeatureType, string>> = {
  iid: 'rows N(0, I_d): unbiased',
  orthogonal: 'Haar-orthogonal d×d blocks, each row rescaled to an independent χ_d norm: unbiased, lower MSE where ‖x+y‖² is small (Theorem 2)',
  'orthogonal-fixed': 'the same directions with every row norm √d (the reference code\'s SMREG): BIASED for the softmax kernel; its bias grows with the input scale (measure it: performer error --target kernel --feature-types orthogonal-fixed)',
};

/** Seeded xoshiro128** generator. */
export class Rng {
  private s = new Uint32Array(4);
  private spare: number | undefined;

  /** @param seed a non-negative integer below 2^53; both 32-bit words feed every state word */
  constructor(seed: number) {
    const lo = seed >>> 0;
    const hi = Math.floor(seed / 2 ** 32) >>> 0;
    for (let i = 0; i < 4; i++) this.s[i] = (splitmix32(lo + (i + 1) * 0x9e3779b9) ^ splitmix32(hi + (i + 5) * 0x9e3779b9)) >>> 0;
    if (this.s.every((v) => v === 0)) this.s[0] = 1;
  }

  /** Next 32-bit unsigned integer. */
  nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = s[1]! << 9;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    return ((this.nextU32() >>> 5) * 67108864 + (this.nextU32() >>> 6)) / 9007199254740992;
  }

  /** Standard normal (Box–Muller, both values used). */
  gaussian(): number {
    if (this.spare !== undefined) {
      const v = this.spare;
      this.spare = undefined;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    const theta = 2 * Math.PI * this.uniform();
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }
}

/** splitmix32's output mix of x (mod 2^32). */
function splitmix32(x: number): number {
  let z = x | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

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
