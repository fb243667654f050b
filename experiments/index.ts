/**
 * The paper's figures as data (its Fig. 2, 3 and 4, and a student poster): each experiment is the `performer` command line that
 * produces its data, in a full and a quick (CI-sized, under a minute) variant. `performer
 * reproduce` runs one, then writes data.csv, data.json, table.md and figure.svg/png.
 */
export type ExperimentKind = 'bench' | 'error' | 'utility';

export interface Experiment {
  readonly id: string;
  readonly title: string;
  /** One line for `reproduce --list`. */
  readonly description: string;
  readonly kind: ExperimentKind;
  /** Arguments after `performer` (the output options are added by reproduce). */
  readonly full: readonly string[];
  readonly quick: readonly string[];
}

/**
 * Whole-model points at batch 8 and L = 8192 take 10–40 s a run on a 2-core CPU, so the Fig. 3
 * runs take the untimed first run as the warm-up and time two more: each point costs three runs.
 * Even so fig3-forward takes about 50 minutes; fig3-backward (a run costs ~3.5× a forward) stops
 * at L = 2048, past its crossover, in about 30 minutes (L = 4096 would add ~25 minutes).
 */
const modelRuns = ['--min-runs', '2', '--warmup', '0', '--time-ms', '1'];

const tinyModel = ['--layers', '1', '--dim', '32', '--heads', '2', '--d-ff', '64', '--seq-lens', '32,64', '--batch', '1,2', '--time-ms', '5', '--min-runs', '2', '--warmup', '0'];

export const EXPERIMENTS: readonly Experiment[] = [
  {
    id: 'fig2-utility', title: 'Fig. 2: utility r(φ, l) of positive over trigonometric features', kind: 'utility',
    description: 'closed-form MSE(trig)/MSE(pos) over φ ∈ [−π, π], l ∈ [−2, 2], and the slice l = 1',
    full: ['theory', 'utility', '--angle-steps', '181', '--norm-steps', '81'],
    quick: ['theory', 'utility', '--angle-steps', '37', '--norm-steps', '9'],
  },
  {
    id: 'fig3-forward', title: 'Fig. 3: forward time of the whole model', kind: 'bench',
    description: 'paper-regular encoder (8, 6, 2048, 512), batch 1/2/4/8, L = 32…8192, softmax vs favor-pos vs OPT, 16 GiB budget',
    full: ['bench', '--preset', 'paper-regular', '--pass', 'forward', '--kernels', 'softmax,favor-pos,identity', '--seq-lens', '32..8192', ...modelRuns],
    quick: ['bench', '--scope', 'model', '--pass', 'forward', '--kernels', 'softmax,favor-pos,identity', ...tinyModel],
  },
  {
    id: 'fig3-backward', title: 'Fig. 3: forward+backward time of the whole model', kind: 'bench',
    description: 'as fig3-forward, the gradient of every parameter, L = 32…2048',
    full: ['bench', '--preset', 'paper-regular', '--pass', 'backward', '--kernels', 'softmax,favor-pos,identity', '--seq-lens', '32..2048', ...modelRuns],
    quick: ['bench', '--scope', 'model', '--pass', 'backward', '--kernels', 'softmax,favor-pos,identity', ...tinyModel],
  },
  {
    id: 'fig3-attention', title: 'Fig. 3 (appendix): attention-only time', kind: 'bench',
    description: 'attention alone, 8 heads, d = 64, softmax / fused softmax / favor-pos / OPT, forward and backward',
    full: ['bench', '--heads', '8', '--kernels', 'softmax,softmax-fused,favor-pos,identity', '--seq-lens', '256..16384'],
    quick: ['bench', '--heads', '2', '--kernels', 'softmax,softmax-fused,favor-pos,identity', '--seq-lens', '64,128', '--time-ms', '5', '--min-runs', '2', '--warmup', '0'],
  },
  {
    id: 'fig4-output-mse', title: 'Fig. 4: MSE of the attention output', kind: 'error',
    description: 'L = 4096, d = 16, m = 16…192, 15 seeds; orthogonal vs iid, positive vs trig; Q, K, V i.i.d. N(0, 1)',
    full: ['error'],
    quick: ['error', '--seq-len', '128', '--seeds', '3', '--features', '16,64'],
  },
  {
    id: 'poster-mse-d100', title: 'Poster: MSE vs m at d = 100, iid vs orthogonal', kind: 'error',
    description: 'favor-pos, d = 100, L = 1024, m = 20…200, 10 seeds, inputs N(0, 0.5²)',
    full: ['error', '--kernels', 'favor-pos', '--dim', '100', '--seq-len', '1024', '--seeds', '10', '--input-scale', '0.5', '--features', '20,40,60,80,100,120,140,160,180,200'],
    quick: ['error', '--kernels', 'favor-pos', '--dim', '100', '--seq-len', '64', '--seeds', '2', '--input-scale', '0.5', '--features', '20,100'],
  },
  {
    id: 'poster-runtime', title: 'Poster: one single-head attention layer, forward+backward', kind: 'bench',
    description: 'softmax vs favor-pos, 1 head, d = 50, m = 100',
    full: ['bench', '--heads', '1', '--dim', '50', '--features', '100', '--kernels', 'softmax,favor-pos', '--pass', 'backward', '--seq-lens', '256..16384'],
    quick: ['bench', '--heads', '1', '--dim', '50', '--features', '100', '--kernels', 'softmax,favor-pos', '--pass', 'backward', '--seq-lens', '64,128', '--time-ms', '5', '--min-runs', '2', '--warmup', '0'],
  },
];
