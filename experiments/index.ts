/**
 * The paper's figures as data (its Fig. 2, 3 and 4, and a student poster): each experiment is the `performer` command line that
 * produces its data, in a full and a quick (CI-sized, under a minute) variant. `performer
 * reproduce` runs one, then writes data.csv, data.json, table.md and figure.svg/png.
 */
import { ACCURACY } from './accuracy.ts';
import { TIMING } from './timing.ts';
import { TRAINING } from './training.ts';

/** One panel of Fig. 4: the series of one accuracy claim (or every series) at one input scale σ. */
export interface Panel {
  readonly title: string;
  readonly claim: 'orthogonal<iid' | 'positive<trig' | 'oprf<positive' | 'all';
  readonly inputScale: number;
  /** Draw m·MSE instead of the MSE: flat where the error falls like 1/m. */
  readonly timesM?: boolean;
}

export type ExperimentKind = 'bench' | 'error' | 'utility' | 'regime' | 'train';

export interface Experiment {
  readonly id: string;
  readonly title: string;
  /** One line for `reproduce --list`. */
  readonly description: string;
  readonly kind: ExperimentKind;
  /** Arguments after `performer` (the output options are added by reproduce). */
  readonly full: readonly string[];
  readonly quick: readonly string[];
  /** Error experiments drawn as Fig. 4: one panel per claim at its input scale (from the regime map). */
  readonly panels?: readonly Panel[];
  /** Error experiments: table.md adds every case against this kernel's on paired seeds. */
  readonly baseline?: string;
  /**
   * A run the experiment starts from (train transfer): reproduce runs it first into <id>/<name>/,
   * replaces `{pre}` in the main arguments by that directory, and keeps its results as
   * <id>/<name>.json once the main run has finished (its checkpoints are removed then).
   */
  readonly pre?: { readonly name: string; readonly full: readonly string[]; readonly quick: readonly string[] };
}

/** Every experiment, by topic: accuracy, timing, training (`reproduce --list` shows them in this order). */
export const EXPERIMENTS: readonly Experiment[] = [...ACCURACY, ...TIMING, ...TRAINING];
