/** The kernel registry: one literal, one entry per kernel file. */
import { usage } from '../errors.ts';
import { eluKernel } from './elu.ts';
import { favorHypKernel } from './favor-hyp.ts';
import { favorOprKernel } from './favor-opr.ts';
import { favorPosKernel } from './favor-pos.ts';
import { favorReluKernel } from './favor-relu.ts';
import { favorSadeKernel } from './favor-sade.ts';
import { favorTrigKernel } from './favor-trig.ts';
import { identityKernel } from './identity.ts';
import { reluKernel } from './relu.ts';
import { softmaxFusedKernel } from './softmax-fused.ts';
import { softmaxKernel } from './softmax.ts';
import type { KernelRole, KernelSpec } from './types.ts';

const REGISTRY = {
  softmax: softmaxKernel,
  'softmax-fused': softmaxFusedKernel,
  identity: identityKernel,
  'favor-pos': favorPosKernel,
  'favor-hyp': favorHypKernel,
  'favor-trig': favorTrigKernel,
  'favor-relu': favorReluKernel,
  'favor-opr': favorOprKernel,
  'favor-sade': favorSadeKernel,
  relu: reluKernel,
  elu: eluKernel,
} as const satisfies Record<string, KernelSpec>;

/** A registered kernel's name (a typo in a default list is a compile error). */
export type KernelName = keyof typeof REGISTRY;

export const KERNELS: Readonly<Record<string, KernelSpec>> = REGISTRY;

export const KERNEL_NAMES = Object.keys(KERNELS);

/** Looks a kernel up; an unknown name is a usage error naming `flag`. */
export function getKernel(name: string, flag = '--kernel'): KernelSpec {
  const k = KERNELS[name];
  if (!k) throw usage(flag, `unknown kernel '${name}'`, KERNEL_NAMES.join(', '));
  return k;
}

/** The kernel's spec, or undefined for a name no kernel has (results files from elsewhere). */
export const findKernel = (name: string): KernelSpec | undefined => KERNELS[name];

/** Whether `name` is a kernel of one of `roles`. */
export const hasRole = (name: string, ...roles: readonly KernelRole[]): boolean => roles.includes(KERNELS[name]?.role as KernelRole);

/** Exact softmax (plain or fused): the baselines speed-ups and crossovers are measured against. */
export const isSoftmaxBaseline = (name: string): boolean => hasRole(name, 'exact', 'fused');

/** The names of the kernels with one of `roles`, in registry order. */
export const kernelsWithRole = (...roles: readonly KernelRole[]): string[] => KERNEL_NAMES.filter((n) => hasRole(n, ...roles));

/** The names of the unbiased softmax-kernel estimators, in registry order. */
export const ESTIMATOR_NAMES = KERNEL_NAMES.filter((n) => KERNELS[n]!.estimator);

/** The paper's two softmax estimators whose accuracy claims (Fig. 4) the tool tests. */
export const PAPER_ESTIMATORS = { positive: 'favor-pos', trig: 'favor-trig' } as const satisfies Record<string, KernelName>;

/** The newer estimators the tool adds beyond the paper (docs/formulas.md §6). */
export const BEYOND_ESTIMATORS = { oprf: 'favor-opr', saderf: 'favor-sade' } as const satisfies Record<string, KernelName>;

/** The kernels each command uses when none are named (one source for help texts and presets). */
export const DEFAULT_KERNELS = {
  /** `bench`: every baseline and the paper's kernel. */
  bench: ['softmax', 'softmax-fused', 'favor-pos', 'identity'],
  /**
   * `bench --preset ci`: one baseline and the paper's kernel. Not OPT: returning V takes well
   * under a millisecond and its time is bimodal between processes (0.3 or 1.6 ms), so no gate can
   * resolve a change in it.
   */
  ci: ['softmax', 'favor-pos'],
  /** `error`: the paper's Fig. 4 pair, positive and trigonometric. */
  error: ['favor-pos', 'favor-trig'],
  /** `train`: exact softmax against the positive and ReLU Performers (the paper's Fig. 5 trio without trig). */
  train: ['softmax', 'favor-pos', 'favor-relu'],
  /** `train --preset quick`: one baseline and the paper's kernel. */
  trainQuick: ['softmax', 'favor-pos'],
} as const satisfies Record<string, readonly KernelName[]>;

/** Each kernel as `performer kernels` lists it. */
export function kernelSummaries() {
  return Object.values(KERNELS).map((k) => ({
    name: k.name,
    description: k.description,
    formula: k.formula,
    passes: k.supportsBackward ? ['forward', 'backward'] : ['forward'],
    modes: k.supportsCausal ? ['bidirectional', k.role === 'linear' ? 'causal (prefix, chunked)' : 'causal'] : ['bidirectional'],
    projection: k.projection,
    dtypes: k.dtypes ?? ['float32', 'float64', 'float16'],
  }));
}
