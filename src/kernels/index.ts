/** The kernel registry: one literal, one entry per kernel file. */
import { usage } from '../errors.ts';
import { eluKernel } from './elu.ts';
import { favorHypKernel } from './favor-hyp.ts';
import { favorPosKernel } from './favor-pos.ts';
import { favorReluKernel } from './favor-relu.ts';
import { favorTrigKernel } from './favor-trig.ts';
import { identityKernel } from './identity.ts';
import { reluKernel } from './relu.ts';
import { softmaxFusedKernel } from './softmax-fused.ts';
import { softmaxKernel } from './softmax.ts';
import type { KernelSpec } from './types.ts';

export const KERNELS: Readonly<Record<string, KernelSpec>> = {
  softmax: softmaxKernel,
  'softmax-fused': softmaxFusedKernel,
  identity: identityKernel,
  'favor-pos': favorPosKernel,
  'favor-hyp': favorHypKernel,
  'favor-trig': favorTrigKernel,
  'favor-relu': favorReluKernel,
  relu: reluKernel,
  elu: eluKernel,
};

export const KERNEL_NAMES = Object.keys(KERNELS);

/** Looks a kernel up; an unknown name is a usage error naming `flag`. */
export function getKernel(name: string, flag = '--kernel'): KernelSpec {
  const k = KERNELS[name];
  if (!k) throw usage(flag, `unknown kernel '${name}'`, KERNEL_NAMES.join(', '));
  return k;
}
