/**
 * Run labels of `performer train --kernels`: a kernel name with optional variants, so one run can
 * compare one kernel under two treatments on the same seeds and batches.
 * - `+noredraw`: never draw new features, even with --redraw-every;
 * - `+scratch`: with --init-from, start from this run's own initial weights instead of the source's.
 * Example: `softmax,favor-pos,favor-pos+noredraw,favor-pos+scratch`.
 */
import { usage } from '../errors.ts';
import { KERNEL_NAMES } from '../kernels/index.ts';

export const RUN_VARIANTS = ['noredraw', 'scratch'] as const;
export type RunVariant = (typeof RUN_VARIANTS)[number];

export interface RunLabel {
  /** As given, e.g. `favor-pos+noredraw`: the records' `kernel` field and the checkpoint's name. */
  readonly label: string;
  /** The attention kernel, e.g. `favor-pos`. */
  readonly kernel: string;
  readonly noRedraw: boolean;
  readonly scratch: boolean;
}

/** Splits `kernel[+variant…]`; throws a usage error naming `flag`. */
export function parseRunLabel(label: string, flag = '--kernels'): RunLabel {
  const [kernel = '', ...variants] = label.split('+');
  if (!(KERNEL_NAMES as readonly string[]).includes(kernel)) throw usage(flag, `'${kernel}' is not a kernel`, KERNEL_NAMES.join(', '));
  for (const v of variants)
    if (!(RUN_VARIANTS as readonly string[]).includes(v)) throw usage(flag, `'${label}': unknown variant '+${v}'`, RUN_VARIANTS.map((x) => `+${x}`).join(', '));
  return { label, kernel, noRedraw: variants.includes('noredraw'), scratch: variants.includes('scratch') };
}

/** The --kernels parser of train: comma-separated run labels, no empty entry, no duplicate. */
export const runLabelList =
  (flag: string) =>
  (raw: string): string[] => {
    const items = raw.split(',').map((s) => s.trim());
    if (items.some((s) => !s)) throw usage(flag, `'${raw}' has an empty entry`, `kernel names separated by single commas: ${KERNEL_NAMES.join(', ')}`);
    for (const s of items) parseRunLabel(s, flag);
    return [...new Set(items)];
  };
