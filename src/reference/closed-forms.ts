/**
 * Closed-form errors of the softmax-kernel estimators for one pair x, y with m i.i.d. ω
 * (docs/formulas.md §5; Lemma 2 and Theorem 2 of the paper). These describe the raw estimators, without
 * the ε and max shifts the attention graphs add for numerical safety.
 */

const dot = (a: readonly number[], b: readonly number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);
const sq = (a: readonly number[]) => dot(a, a);

/** SM(x, y) = exp(xᵀy). */
export const softmaxKernel = (x: readonly number[], y: readonly number[]): number => Math.exp(dot(x, y));

/** The three scalars every closed form uses. */
export interface PairGeometry {
  /** xᵀy */
  readonly xy: number;
  /** ‖x‖² */
  readonly xx: number;
  /** ‖y‖² */
  readonly yy: number;
}

export const geometry = (x: readonly number[], y: readonly number[]): PairGeometry => ({ xy: dot(x, y), xx: sq(x), yy: sq(y) });

/** From norms a = ‖x‖, b = ‖y‖ and the angle φ between them. */
export const geometryFromNorms = (a: number, b: number, angle: number): PairGeometry => ({ xy: a * b * Math.cos(angle), xx: a * a, yy: b * b });

const sumSq = (g: PairGeometry) => g.xx + g.yy + 2 * g.xy; // ‖x+y‖²
const diffSq = (g: PairGeometry) => g.xx + g.yy - 2 * g.xy; // ‖x−y‖²

/** MSE(trig) = 1/(2m) · exp(‖x+y‖²) · SM⁻² · (1 − exp(−‖x−y‖²))². */
export function mseTrig(g: PairGeometry, m: number): number {
  return (Math.exp(sumSq(g)) * Math.exp(-2 * g.xy) * (1 - Math.exp(-diffSq(g))) ** 2) / (2 * m);
}

/** MSE(pos) = 1/m · exp(‖x+y‖²) · SM² · (1 − exp(−‖x+y‖²)). */
export function msePos(g: PairGeometry, m: number): number {
  return (Math.exp(sumSq(g)) * Math.exp(2 * g.xy) * (1 - Math.exp(-sumSq(g)))) / m;
}

/** MSE(hyp) = ½ · (1 − exp(−‖x+y‖²)) · MSE(pos), m projections (2m features). */
export function mseHyp(g: PairGeometry, m: number): number {
  return 0.5 * (1 - Math.exp(-sumSq(g))) * msePos(g, m);
}

/**
 * Theorem 2 bound for orthogonal features (m ≤ d):
 * MSE(ort) ≤ MSE(pos) − 2(m−1)/(m(d+2)) · (SM − exp(−(‖x‖²+‖y‖²)/2))².
 */
export function mseOrthogonalBound(g: PairGeometry, m: number, d: number): number {
  return msePos(g, m) - ((2 * (m - 1)) / (m * (d + 2))) * (Math.exp(g.xy) - Math.exp(-(g.xx + g.yy) / 2)) ** 2;
}

/**
 * Utility ratio r(φ, l) = MSE(trig)/MSE(pos) for ‖x‖ = ‖y‖ = l at angle φ (m cancels):
 * exp(−4l²cos φ) · (1 − exp(−2l²(1 − cos φ)))² / (2 · (1 − exp(−2l²(1 + cos φ)))).
 */
export function utilityRatio(angle: number, l: number): number {
  const c = Math.cos(angle);
  const l2 = l * l;
  return (Math.exp(-4 * l2 * c) * (1 - Math.exp(-2 * l2 * (1 - c))) ** 2) / (2 * (1 - Math.exp(-2 * l2 * (1 + c))));
}

/** The Fig. 2 grid: r(φ, l) for φ ∈ [−π, π], l ∈ [−2, 2] (steps of each axis given). */
export function utilityGrid(angleSteps: number, normSteps: number): { angle: number; norm: number; ratio: number }[] {
  const out: { angle: number; norm: number; ratio: number }[] = [];
  for (let i = 0; i < angleSteps; i++)
    for (let j = 0; j < normSteps; j++) {
      const angle = -Math.PI + (2 * Math.PI * i) / (angleSteps - 1);
      const norm = -2 + (4 * j) / (normSteps - 1);
      out.push({ angle, norm, ratio: utilityRatio(angle, norm) });
    }
  return out;
}
