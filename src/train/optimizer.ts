/**
 * Host-side optimiser for `performer train`: AdamW with decoupled weight decay (Loshchilov & Hutter,
 * "Decoupled Weight Decay Regularization", ICLR 2019), global-norm gradient clipping and the
 * learning-rate schedule. Parameters are float64 on the host; ONNX Runtime returns gradients as
 * float32 or float64, which are read as float64 here so the optimiser state never loses precision.
 */

/** AdamW hyper-parameters, named as in `torch.optim.AdamW` (betas split into beta1/beta2). */
export interface AdamWOptions {
  /** Learning rate γ used when {@link AdamW.step} is not given one (a schedule normally supplies it). */
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  /** Added to √v̂ after bias correction, as PyTorch does (not inside the square root). */
  readonly eps: number;
  /** λ: each step multiplies a decaying parameter by 1 − γλ, so decay follows the scheduled γ. */
  readonly weightDecay: number;
}

/** PyTorch's `torch.optim.AdamW` defaults: γ 1e-3, β (0.9, 0.999), ε 1e-8, λ 0.01. */
export const ADAMW_DEFAULTS: Readonly<AdamWOptions> = Object.freeze({ lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 });

/** One optimised tensor; `data` is updated in place and `decay` says whether λ applies to it. */
export interface AdamWParam {
  readonly name: string;
  readonly data: Float64Array;
  readonly decay: boolean;
}

/** Gradients keyed by parameter name; keys naming no parameter are ignored. */
export type Gradients<T = ArrayLike<number>> = ReadonlyMap<string, T> | Readonly<Record<string, T>>;

/**
 * JSON-serialisable optimiser state for `--resume`: the step count and, per parameter, the first
 * and second moments as base64 of their little-endian float64 bytes (exact and ~3× smaller than
 * decimal text).
 */
export interface AdamWState {
  readonly format: 'adamw-f64le-base64';
  readonly t: number;
  readonly params: Readonly<Record<string, { readonly m: string; readonly v: string }>>;
}

/**
 * AdamW (Loshchilov & Hutter 2019: weight decay applied to θ directly, not folded into the gradient
 * that Adam normalises), matching `torch.optim.AdamW` (amsgrad and maximize off). Per step t:
 * θ ← θ·(1 − γλ) [decay params only]; m ← lerp(m, g, 1 − β₁); v ← β₂v + (1 − β₂)g²;
 * θ ← θ − (γ / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε).
 * The arithmetic follows PyTorch's single-tensor (CPU) path operation by operation, so float64 runs
 * agree with it to a few ulps (PyTorch's vectorised kernels may fuse multiply-adds).
 */
export class AdamW {
  private readonly params: readonly AdamWParam[];
  private readonly m: Float64Array[];
  private readonly v: Float64Array[];
  private steps = 0;

  /** @throws Error on invalid hyper-parameters or a repeated parameter name */
  constructor(
    params: readonly AdamWParam[],
    private readonly o: AdamWOptions,
  ) {
    checkOptions(o);
    const seen = new Set<string>();
    for (const p of params) {
      if (seen.has(p.name)) throw new Error(`AdamW: parameter '${p.name}' is listed twice`);
      seen.add(p.name);
    }
    this.params = params.map((p) => ({ name: p.name, data: p.data, decay: p.decay }));
    this.m = params.map((p) => new Float64Array(p.data.length));
    this.v = params.map((p) => new Float64Array(p.data.length));
  }

  /** Steps taken so far (PyTorch's `state['step']`); bias correction uses it. */
  get t(): number {
    return this.steps;
  }

  /**
   * One update of every parameter. All gradients are checked before anything changes, so a throw
   * leaves parameters and state untouched. Non-finite gradients are not rejected here: check the
   * norm from {@link clipGlobalNorm} and skip the step instead.
   * @param lr this step's γ (from {@link learningRate}); defaults to the constructor's
   * @throws Error naming the parameter whose gradient is missing or of the wrong length
   */
  step(grads: Gradients, lr: number = this.o.lr): void {
    if (!(Number.isFinite(lr) && lr >= 0)) throw new Error(`AdamW: learning rate must be finite and ≥ 0, got ${lr}`);
    const gs = this.params.map((p) => gradientFor(grads, p));
    this.steps += 1;
    const { beta1, beta2, eps, weightDecay } = this.o;
    const stepSize = lr / (1 - beta1 ** this.steps);
    const bc2Sqrt = Math.sqrt(1 - beta2 ** this.steps);
    const a = 1 - beta1;
    const b = 1 - beta2;
    const big = Math.abs(a) >= 0.5; // ATen's lerp switches formula at weight 0.5 for accuracy
    this.params.forEach((p, k) => {
      const g = gs[k]!;
      const m = this.m[k]!;
      const v = this.v[k]!;
      const x = p.data;
      const shrink = p.decay ? 1 - lr * weightDecay : 1;
      for (let i = 0; i < x.length; i++) {
        const gi = +g[i]!;
        const mi = big ? gi - (gi - m[i]!) * (1 - a) : m[i]! + a * (gi - m[i]!);
        const vi = v[i]! * beta2 + b * gi * gi;
        m[i] = mi;
        v[i] = vi;
        x[i] = x[i]! * shrink + (-stepSize * mi) / (Math.sqrt(vi) / bc2Sqrt + eps);
      }
    });
  }

  /** A snapshot of t, m and v that {@link AdamW.load} restores bit-exactly (parameters are not included). */
  state(): AdamWState {
    const params: Record<string, { m: string; v: string }> = {};
    this.params.forEach((p, k) => (params[p.name] = { m: encodeF64(this.m[k]!), v: encodeF64(this.v[k]!) }));
    return { format: 'adamw-f64le-base64', t: this.steps, params };
  }

  /**
   * Replaces t, m and v with a saved {@link AdamWState}, e.g. after `JSON.parse`. The optimiser must
   * hold the same parameters (names and lengths); their values come from the model checkpoint.
   * @throws Error naming the first parameter that is missing from the state or has a different length
   */
  load(state: AdamWState): void {
    if (state.format !== 'adamw-f64le-base64') throw new Error(`AdamW: unknown state format '${String(state.format)}'`);
    if (!(Number.isInteger(state.t) && state.t >= 0)) throw new Error(`AdamW: state step count must be a non-negative integer, got ${state.t}`);
    const decoded = this.params.map((p) => {
      const s = Object.hasOwn(state.params, p.name) ? state.params[p.name] : undefined;
      if (!s) throw new Error(`AdamW: saved state has no moments for parameter '${p.name}'`);
      const m = decodeF64(s.m);
      const v = decodeF64(s.v);
      if (m.length !== p.data.length || v.length !== p.data.length)
        throw new Error(`AdamW: saved moments for parameter '${p.name}' have ${m.length}/${v.length} values, expected ${p.data.length}`);
      return { m, v };
    });
    decoded.forEach(({ m, v }, k) => {
      this.m[k]!.set(m);
      this.v[k]!.set(v);
    });
    this.steps = state.t;
  }
}

function checkOptions(o: AdamWOptions): void {
  const bad = (what: string, value: number) => new Error(`AdamW: invalid ${what}: ${value}`);
  if (!(Number.isFinite(o.lr) && o.lr >= 0)) throw bad('learning rate', o.lr);
  if (!(o.beta1 >= 0 && o.beta1 < 1)) throw bad('beta1 (need 0 ≤ β₁ < 1)', o.beta1);
  if (!(o.beta2 >= 0 && o.beta2 < 1)) throw bad('beta2 (need 0 ≤ β₂ < 1)', o.beta2);
  if (!(Number.isFinite(o.eps) && o.eps >= 0)) throw bad('eps', o.eps);
  if (!(Number.isFinite(o.weightDecay) && o.weightDecay >= 0)) throw bad('weight decay', o.weightDecay);
}

function lookup<T>(grads: Gradients<T>, name: string): T | undefined {
  if (grads instanceof Map) return (grads as ReadonlyMap<string, T>).get(name);
  const record = grads as Readonly<Record<string, T>>;
  return Object.hasOwn(record, name) ? record[name] : undefined;
}

function gradientFor(grads: Gradients, p: AdamWParam): ArrayLike<number> {
  const g = lookup(grads, p.name);
  if (g === undefined) throw new Error(`AdamW: no gradient for parameter '${p.name}'`);
  if (g.length !== p.data.length) throw new Error(`AdamW: gradient for parameter '${p.name}' has ${g.length} values, expected ${p.data.length}`);
  return g;
}

/**
 * Float64 values as base64 of their little-endian bytes (exact; DataView pins the byte order, so
 * a saved state moves between machines). Also the parameters' format in training checkpoints.
 */
export function encodeF64(a: Float64Array): string {
  const view = new DataView(new ArrayBuffer(a.length * 8));
  a.forEach((x, i) => view.setFloat64(i * 8, x, true));
  return Buffer.from(view.buffer).toString('base64');
}

/** The inverse of {@link encodeF64}. */
export function decodeF64(s: string): Float64Array {
  const bytes = Buffer.from(s, 'base64');
  if (bytes.length % 8) throw new Error(`AdamW: saved moments are not whole float64 values (${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  return Float64Array.from({ length: bytes.length / 8 }, (_, i) => view.getFloat64(i * 8, true));
}

/**
 * Global-norm clipping with `torch.nn.utils.clip_grad_norm_` semantics: norm = ‖concat(grads)‖₂
 * (accumulated in float64); if maxNorm/(norm + 1e-6) < 1, every gradient is multiplied by it in place.
 * maxNorm ≤ 0 or +∞ disables scaling (a CLI convention; PyTorch would zero the gradients at 0) but
 * the norm is still returned for logging. A non-finite norm is returned as is with no scaling, so
 * the caller can skip the step.
 * @returns the pre-clipping norm and the factor applied (1 when not clipped)
 */
export function clipGlobalNorm(grads: Gradients<Float32Array | Float64Array>, maxNorm: number): { norm: number; scale: number } {
  if (Number.isNaN(maxNorm)) throw new Error('clipGlobalNorm: maxNorm is NaN');
  const tensors = grads instanceof Map ? [...(grads as ReadonlyMap<string, Float32Array | Float64Array>).values()] : Object.values(grads);
  let sumSq = 0;
  for (const g of tensors) for (let i = 0; i < g.length; i++) sumSq += g[i]! * g[i]!;
  const norm = Math.sqrt(sumSq);
  const coef = maxNorm / (norm + 1e-6);
  if (!(maxNorm > 0 && maxNorm < Infinity && coef < 1)) return { norm, scale: 1 };
  for (const g of tensors) for (let i = 0; i < g.length; i++) g[i] = g[i]! * coef;
  return { norm, scale: coef };
}

/** Post-warmup shapes of {@link learningRate}. */
export type LrDecay = 'none' | 'linear' | 'cosine' | 'rsqrt';

/**
 * The learning rate for 1-based step `step` (the step about to be taken). Warmup: lr·step/warmup
 * for step ≤ warmup, so step 1 already moves (lr/warmup) and step = warmup reaches lr. After warmup,
 * with s = step − warmup and n = total − warmup:
 * - none: lr;
 * - linear: lr·(1 − s/n), reaching 0 at step = total;
 * - cosine: lr·½(1 + cos(πs/n)), reaching 0 at step = total;
 * - rsqrt: lr·√(max(warmup, 1)/step), ignoring total (LRA's inverse-square-root schedule, whose
 *   base rate b·warmup^−½ is this lr).
 * linear and cosine give 0 for step ≥ total, so step = total itself is a no-op update.
 * @throws Error for step < 1, warmup < 0 or total < warmup
 */
export function learningRate(step: number, o: { lr: number; warmup: number; total: number; decay: LrDecay }): number {
  if (!(step >= 1 && Number.isFinite(step))) throw new Error(`learningRate: step must be ≥ 1 (steps count from 1), got ${step}`);
  if (!(o.warmup >= 0 && o.total >= o.warmup)) throw new Error(`learningRate: need 0 ≤ warmup ≤ total, got warmup ${o.warmup}, total ${o.total}`);
  if (step <= o.warmup) return (o.lr * step) / o.warmup;
  const progress = (step - o.warmup) / (o.total - o.warmup);
  switch (o.decay) {
    case 'none':
      return o.lr;
    case 'linear':
      return step >= o.total ? 0 : o.lr * (1 - progress);
    case 'cosine':
      return step >= o.total ? 0 : o.lr * 0.5 * (1 + Math.cos(Math.PI * progress));
    case 'rsqrt':
      return o.lr * Math.sqrt(Math.max(o.warmup, 1) / step);
  }
}

/**
 * Default weight-decay selection by parameter name, following the GPT convention as minGPT applies
 * it: decay weight matrices only, and leave token and position embeddings undecayed. Excluded: biases
 * (`bias`, `b1`, `b2`, …), LayerNorm `gamma`/`beta`, the token `embedding` and learned `positions`.
 * Why: biases and LayerNorm gains/shifts set scale and offset, and pulling γ toward 0 fights the
 * normalisation; an embedding row is decayed every step but only gets gradient when its token or
 * position occurs, so decay would shrink rare rows toward 0 rather than regularise. Everything
 * else (attention Q/K/V/O, feed-forward W1/W2, the readout `w_out`) is decayed.
 */
export function decays(name: string): boolean {
  const leaf = name.slice(name.lastIndexOf('.') + 1);
  if (/^(bias|b\d*|gamma|beta)$/.test(leaf)) return false;
  return !/^(embedding|embeddings|positions|pos_embedding)$/.test(leaf);
}
