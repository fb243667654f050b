/**
 * The paper's figures as data (its Fig. 2, 3 and 4, and a student poster): each experiment is the `performer` command line that
 * produces its data, in a full and a quick (CI-sized, under a minute) variant. `performer
 * reproduce` runs one, then writes data.csv, data.json, table.md and figure.svg/png.
 */
/** One panel of Fig. 4: the series of one accuracy claim (or every series) at one input scale σ. */
export interface Panel {
  readonly title: string;
  readonly claim: 'orthogonal<iid' | 'positive<trig' | 'oprf<positive' | 'all';
  readonly inputScale: number;
  /** Draw m·MSE instead of the MSE: flat where the error falls like 1/m. */
  readonly timesM?: boolean;
}

export type ExperimentKind = 'bench' | 'error' | 'utility' | 'regime' | 'train' | 'train-steps';

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

/**
 * Whole-model points at batch 8 and L = 8192 take 10–40 s a run on a 2-core CPU, so the Fig. 3
 * runs take the untimed first run as the warm-up and time two more: each point costs three runs,
 * in each of 2 processes (interleaved rounds), so every point has a process-level interval.
 * fig3-backward (a run costs ~3.5× a forward) stops at L = 2048, past its crossover; fig3-forward
 * drops batch 8 (half its time at one process) so that each stays near 90 minutes on 2 cores.
 */
const modelRuns = ['--min-runs', '2', '--warmup', '0', '--time-budget', '1ms', '--repeat', '2'];

/**
 * The protein runs: Debian's UniProt sample (the default --data of --task fasta), L = 512, the
 * train-spam model (width 64, 2 layers, 2 heads, d_ff 128, m = 64, batch 16), validation on 16
 * batches (256 sequences) every 50 steps, the final test on all 940 test sequences. The quick
 * variants read the committed 48-sequence fixture instead.
 */
const PROTEIN = ['--task', 'fasta', '--seq-len', '512', '--seeds', '3', '--eval-every', '50', '--eval-batches', '16'];
const QUICK_PROTEIN = ['--task', 'fasta', '--data', 'test/fixtures/proteins.fasta', '--seq-len', '64', '--d-model', '16', '--layers', '1', '--d-ff', '32', '--features', '16', '--batch', '4', '--seeds', '2', '--eval-every', '10'];

const tinyModel = ['--layers', '1', '--d-model', '32', '--heads', '2', '--d-ff', '64', '--seq-len', '32,64', '--batch', '1,2', '--time-budget', '5ms', '--min-runs', '2', '--warmup', '0'];

export const EXPERIMENTS: readonly Experiment[] = [
  {
    id: 'fig2-utility', title: 'Fig. 2: utility r(φ, l) of positive over trigonometric features', kind: 'utility',
    description: 'closed-form MSE(trig)/MSE(pos) over φ ∈ [−π, π], l ∈ [−2, 2], and the slice l = 1',
    full: ['theory', 'utility', '--angle-steps', '181', '--norm-steps', '81'],
    quick: ['theory', 'utility', '--angle-steps', '37', '--norm-steps', '9'],
  },
  {
    id: 'fig3-forward', title: 'Fig. 3: forward time of the whole model', kind: 'bench',
    description: 'paper-regular encoder (8, 6, 2048, 512), batch 1/2/4 (batch 8 cut for time), L = 32…8192, softmax vs favor-pos vs OPT, 2 processes per point',
    full: ['bench', '--preset', 'paper-regular', '--pass', 'forward', '--kernels', 'softmax,favor-pos,identity', '--seq-len', '32..8192', '--batch', '1,2,4', ...modelRuns],
    quick: ['bench', '--scope', 'model', '--pass', 'forward', '--kernels', 'softmax,favor-pos,identity', ...tinyModel],
  },
  {
    id: 'fig3-backward', title: 'Fig. 3: forward+backward time of the whole model', kind: 'bench',
    description: 'as fig3-forward, the gradient of every parameter, batch 1/2/4/8, L = 32…2048, 2 processes per point',
    full: ['bench', '--preset', 'paper-regular', '--pass', 'backward', '--kernels', 'softmax,favor-pos,identity', '--seq-len', '32..2048', ...modelRuns],
    quick: ['bench', '--scope', 'model', '--pass', 'backward', '--kernels', 'softmax,favor-pos,identity', ...tinyModel],
  },
  {
    id: 'fig3-attention', title: 'Fig. 3 (appendix): attention-only time', kind: 'bench',
    description: 'attention alone, 8 heads, d = 64, softmax / fused softmax / favor-pos / OPT, forward and backward, 3 processes per point',
    full: ['bench', '--heads', '8', '--kernels', 'softmax,softmax-fused,favor-pos,identity', '--seq-len', '256..16384', '--repeat', '3'],
    quick: ['bench', '--heads', '2', '--kernels', 'softmax,softmax-fused,favor-pos,identity', '--seq-len', '64,128', '--time-budget', '5ms', '--min-runs', '2', '--warmup', '0'],
  },
  {
    id: 'regime-map', title: 'Where the accuracy claims hold: MSE ratios over the input scale σ', kind: 'regime',
    description: 'd = 16, L = 1024, m = 16/64/128, 15 paired seeds; orthogonal/iid, positive/trig and FAVOR++/FAVOR+ output-MSE ratios vs σ = 0.1…1.5, with the closed forms; the estimators exact (float64, no ε) beside the graph (float32, ε), shaded where they differ by > 10%',
    full: ['error', '--kernels', 'favor-pos,favor-trig,favor-opr', '--feature-type', 'iid,orthogonal', '--dim', '16', '--seq-len', '1024', '--seeds', '15', '--features', '16,64,128', '--input-scale', '0.1,0.15,0.2,0.25,0.35,0.5,0.7,1,1.5', '--estimator', 'graph,exact'],
    quick: ['error', '--kernels', 'favor-pos,favor-trig,favor-opr', '--feature-type', 'iid,orthogonal', '--dim', '16', '--seq-len', '128', '--seeds', '4', '--features', '16', '--input-scale', '0.25,1', '--estimator', 'graph,exact'],
  },
  {
    id: 'fig4-output-mse', title: 'Fig. 4: MSE of the attention output', kind: 'error',
    description: 'L = 4096, d = 16, m = 16…192, 15 paired seeds; (a) orthogonal vs iid at σ = 0.35 and (b) positive vs trig at σ = 1, where the regime map shows each claim; (c) every series at N(0, 1), where orthogonal ≈ iid; exact estimators (float64, no ε) solid, the graph (float32, ε) dashed',
    full: ['error', '--kernels', 'favor-pos,favor-trig', '--feature-type', 'iid,orthogonal', '--seeds', '15', '--input-scale', '0.35,1', '--estimator', 'graph,exact'],
    quick: ['error', '--kernels', 'favor-pos,favor-trig', '--feature-type', 'iid,orthogonal', '--seq-len', '128', '--seeds', '3', '--features', '16,64', '--input-scale', '0.35,1', '--estimator', 'graph,exact'],
    panels: [
      { title: '(a) orthogonal vs iid', claim: 'orthogonal<iid', inputScale: 0.35 },
      { title: '(b) positive vs trig', claim: 'positive<trig', inputScale: 1 },
      { title: '(c) all, N(0, 1): orthogonal ≈ iid', claim: 'all', inputScale: 1 },
    ],
  },
  {
    id: 'poster-mse-d100', title: 'Poster: m·MSE vs m at d = 100, iid vs orthogonal', kind: 'error',
    description: 'favor-pos, d = 100, L = 1024, m = 20…200, 15 paired seeds, inputs N(0, 0.25²) (‖x‖² ≈ 0.6 after the d^(-1/4) scaling: the regime where orthogonal rows gain)',
    full: ['error', '--kernels', 'favor-pos', '--dim', '100', '--seq-len', '1024', '--seeds', '15', '--input-scale', '0.25', '--features', '20,40,60,80,100,120,140,160,180,200'],
    quick: ['error', '--kernels', 'favor-pos', '--dim', '100', '--seq-len', '64', '--seeds', '3', '--input-scale', '0.25', '--features', '20,100'],
    panels: [{ title: 'm·MSE: flat where the error falls like 1/m', claim: 'orthogonal<iid', inputScale: 0.25, timesM: true }],
  },
  {
    id: 'poster-runtime', title: 'Poster: one single-head attention layer, forward+backward', kind: 'bench',
    description: 'softmax vs favor-pos, 1 head, d = 50, m = 100, 3 processes per point',
    full: ['bench', '--heads', '1', '--dim', '50', '--features', '100', '--kernels', 'softmax,favor-pos', '--pass', 'backward', '--seq-len', '256..16384', '--repeat', '3'],
    quick: ['bench', '--heads', '1', '--dim', '50', '--features', '100', '--kernels', 'softmax,favor-pos', '--pass', 'backward', '--seq-len', '64,128', '--time-budget', '5ms', '--min-runs', '2', '--warmup', '0'],
  },
  {
    id: 'beyond-mse', title: 'Beyond the paper: output MSE of FAVOR+, FAVOR++ and FAVOR# (SADERF)', kind: 'error',
    description: 'favor-pos vs favor-opr vs favor-sade, orthogonal rows, d = 16, L = 1024, m = 16…128, 15 paired seeds, at the regime map\'s σ = 0.35 and 1; exact estimators (float64, no ε) beside the graph (float32, ε)',
    full: ['error', '--kernels', 'favor-pos,favor-opr,favor-sade', '--feature-type', 'orthogonal', '--dim', '16', '--seq-len', '1024', '--seeds', '15', '--features', '16,32,64,128', '--input-scale', '0.35,1', '--estimator', 'graph,exact'],
    quick: ['error', '--kernels', 'favor-pos,favor-opr,favor-sade', '--feature-type', 'orthogonal', '--dim', '16', '--seq-len', '128', '--seeds', '3', '--features', '16,64', '--input-scale', '0.35,1', '--estimator', 'graph,exact'],
    panels: [
      { title: '(a) small inputs', claim: 'all', inputScale: 0.35 },
      { title: '(b) N(0, 1) inputs', claim: 'all', inputScale: 1 },
    ],
    baseline: 'favor-pos',
  },
  {
    id: 'beyond-time', title: 'Beyond the paper: attention time of FAVOR++ and FAVOR# against FAVOR+ and softmax', kind: 'bench',
    description: 'attention alone, 8 heads, d = 64, m = 256, softmax / favor-pos / favor-opr / favor-sade, forward and forward+backward, 3 processes per point',
    full: ['bench', '--heads', '8', '--kernels', 'softmax,favor-pos,favor-opr,favor-sade', '--seq-len', '256..8192', '--time-budget', '100ms', '--repeat', '3'],
    quick: ['bench', '--heads', '2', '--kernels', 'softmax,favor-pos,favor-opr,favor-sade', '--seq-len', '64,128', '--time-budget', '5ms', '--min-runs', '2', '--warmup', '0'],
  },
  {
    id: 'train-spam', title: 'Training on real e-mails: accuracy against wall-clock and steps', kind: 'train',
    description: 'spam vs ham (SpamAssassin), byte tokens, L = 512, width 64, 2 layers, 2 heads, m = 64, batch 16, 300 AdamW steps, 3 seeds; softmax, favor-pos, favor-relu, favor-trig',
    full: ['train', '--task', 'spam', '--kernels', 'softmax,favor-pos,favor-relu,favor-trig', '--seeds', '3', '--steps', '300', '--eval-every', '25', '--eval-batches', '20', '--target-acc', '0.9'],
    quick: ['train', '--preset', 'quick', '--target-acc', '0.9'],
  },
  {
    id: 'train-protein', title: 'Protein masked language model (UniProt/TrEMBL): accuracy against steps and wall-clock', kind: 'train',
    description: 'bidirectional MLM (BERT masking) on Debian\'s 20,000 UniProt sequences (mmseqs2-examples), L = 512, width 64, 2 layers, 2 heads, m = 64, batch 16, 800 steps, 3 seeds; softmax, favor-pos, favor-relu, favor-trig, favor-opr',
    full: ['train', '--objective', 'mlm', '--kernels', 'softmax,favor-pos,favor-relu,favor-trig,favor-opr', ...PROTEIN, '--steps', '800'],
    quick: ['train', '--objective', 'mlm', '--kernels', 'softmax,favor-pos,favor-relu', ...QUICK_PROTEIN, '--steps', '30'],
  },
  {
    id: 'train-protein-lm', title: 'Protein causal language model (UniProt/TrEMBL): accuracy against steps and wall-clock', kind: 'train',
    description: 'unidirectional next-residue LM on the same data and model as train-protein, 600 steps, 3 seeds; softmax, favor-pos, favor-relu, favor-trig, favor-opr',
    full: ['train', '--objective', 'lm', '--kernels', 'softmax,favor-pos,favor-relu,favor-trig,favor-opr', ...PROTEIN, '--steps', '600'],
    quick: ['train', '--objective', 'lm', '--kernels', 'softmax,favor-pos,favor-relu', ...QUICK_PROTEIN, '--steps', '30'],
  },
  {
    id: 'train-transfer', title: 'Backward compatibility: a trained softmax protein MLM continued with Performer attention', kind: 'train',
    description: 'softmax MLM trained 1,000 steps (3 seeds), then 400 more steps from its weights with softmax (control), favor-pos redrawn every 100 steps, favor-pos never redrawn, favor-relu, and favor-pos from scratch',
    pre: {
      name: 'source',
      full: ['train', '--objective', 'mlm', '--kernels', 'softmax', ...PROTEIN, '--steps', '1000'],
      quick: ['train', '--objective', 'mlm', '--kernels', 'softmax', ...QUICK_PROTEIN, '--steps', '30'],
    },
    full: ['train', '--objective', 'mlm', '--init-from', '{pre}', '--kernels', 'softmax,favor-pos,favor-pos+noredraw,favor-relu,favor-pos+scratch', '--redraw-every', '100', ...PROTEIN, '--steps', '400', '--eval-every', '25'],
    quick: ['train', '--objective', 'mlm', '--init-from', '{pre}', '--kernels', 'softmax,favor-pos,favor-pos+noredraw,favor-pos+scratch', '--redraw-every', '10', ...QUICK_PROTEIN, '--steps', '20'],
  },
  {
    id: 'error-real', title: 'Approximation error on a trained model\'s own attention inputs', kind: 'error',
    description: 'q, k, v of the train-spam softmax model (300 steps, seed 0) on two test batches (32 e-mails, L = 512, 2 layers × 2 heads, d = 32), captured by error --inputs; output MSE per head of favor-pos, favor-opr, favor-sade, SDERF/ADERF (host, float64), favor-trig, favor-relu at m = 16…256, iid/orthogonal, 10 seeds, paired against favor-pos',
    pre: {
      name: 'model',
      full: ['train', '--task', 'spam', '--kernels', 'softmax', '--seeds', '1', '--steps', '300', '--eval-every', '25', '--eval-batches', '20'],
      quick: ['train', '--preset', 'quick', '--kernels', 'softmax', '--seq-len', '32', '--steps', '20'],
    },
    full: ['error', '--inputs', '{pre}', '--kernels', 'favor-pos,favor-opr,favor-sade,sderf,aderf,favor-trig,favor-relu', '--feature-type', 'iid,orthogonal', '--features', '16,32,64,128,256', '--seeds', '10', '--baseline', 'favor-pos'],
    quick: ['error', '--inputs', '{pre}', '--kernels', 'favor-pos,favor-opr,sderf', '--feature-type', 'iid', '--features', '8,32', '--seeds', '3', '--baseline', 'favor-pos'],
    baseline: 'favor-pos',
  },
  {
    id: 'train-step-time', title: 'Seconds per training step against L', kind: 'train-steps',
    description: 'the train-spam model (width 64, 2 layers, 2 heads, d_ff 128, m = 64, batch 16) on synthetic tokens, L = 128…4096, 5 interleaved rounds',
    full: ['train', '--step-time', '--seq-len', '128..4096', '--kernels', 'softmax,favor-pos,favor-relu', '--repeat', '5'],
    quick: ['train', '--step-time', '--seq-len', '32,64', '--kernels', 'softmax,favor-pos', '--d-model', '16', '--layers', '1', '--d-ff', '32', '--batch', '2', '--repeat', '2'],
  },
];
