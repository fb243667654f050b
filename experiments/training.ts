/** Training experiments: spam and protein classifiers and language models, transfer into a Performer, and the training step time. Each is a `performer train` command line. */
import type { Experiment } from './index.ts';

/**
 * The protein runs: Debian's UniProt sample (the default --data of --task fasta), L = 512, the
 * train-spam model (width 64, 2 layers, 2 heads, d_ff 128, m = 64, batch 16), validation on 16
 * batches (256 sequences) every 50 steps, the final test on all 940 test sequences. The quick
 * variants read the committed 48-sequence fixture instead.
 */
const PROTEIN = ['--task', 'fasta', '--seq-len', '512', '--seeds', '3', '--eval-every', '50', '--eval-batches', '16'];

const QUICK_PROTEIN = [
  '--task',
  'fasta',
  '--data',
  'test/fixtures/proteins.fasta',
  '--seq-len',
  '64',
  '--d-model',
  '16',
  '--layers',
  '1',
  '--d-ff',
  '32',
  '--features',
  '16',
  '--batch',
  '4',
  '--seeds',
  '2',
  '--eval-every',
  '10',
];

export const TRAINING: readonly Experiment[] = [
  {
    id: 'train-spam',
    title: 'Training on real e-mails: accuracy against wall-clock and steps',
    kind: 'train',
    description:
      'spam vs ham (SpamAssassin), byte tokens, L = 512, width 64, 2 layers, 2 heads, m = 64, batch 16, 300 AdamW steps, 3 seeds; softmax, favor-pos, favor-relu, favor-trig',
    full: [
      'train',
      '--task',
      'spam',
      '--kernels',
      'softmax,favor-pos,favor-relu,favor-trig',
      '--seeds',
      '3',
      '--steps',
      '300',
      '--eval-every',
      '25',
      '--eval-batches',
      '20',
      '--target-acc',
      '0.9',
    ],
    quick: ['train', '--preset', 'quick', '--target-acc', '0.9'],
  },
  {
    id: 'train-protein',
    title: 'Protein masked language model (UniProt/TrEMBL): accuracy against steps and wall-clock',
    kind: 'train',
    description:
      "bidirectional MLM (BERT masking) on Debian's 20,000 UniProt sequences (mmseqs2-examples), L = 512, width 64, 2 layers, 2 heads, m = 64, batch 16, 800 steps, 3 seeds; softmax, favor-pos, favor-relu, favor-trig, favor-opr",
    full: ['train', '--objective', 'mlm', '--kernels', 'softmax,favor-pos,favor-relu,favor-trig,favor-opr', ...PROTEIN, '--steps', '800'],
    quick: ['train', '--objective', 'mlm', '--kernels', 'softmax,favor-pos,favor-relu', ...QUICK_PROTEIN, '--steps', '30'],
  },
  {
    id: 'train-protein-lm',
    title: 'Protein causal language model (UniProt/TrEMBL): accuracy against steps and wall-clock',
    kind: 'train',
    description:
      'unidirectional next-residue LM on the same data and model as train-protein, 600 steps, 3 seeds; softmax, favor-pos, favor-relu, favor-trig, favor-opr',
    full: ['train', '--objective', 'lm', '--kernels', 'softmax,favor-pos,favor-relu,favor-trig,favor-opr', ...PROTEIN, '--steps', '600'],
    quick: ['train', '--objective', 'lm', '--kernels', 'softmax,favor-pos,favor-relu', ...QUICK_PROTEIN, '--steps', '30'],
  },
  {
    id: 'train-transfer',
    title: 'Backward compatibility: a trained softmax protein MLM continued with Performer attention',
    kind: 'train',
    description:
      'softmax MLM trained 1,000 steps (3 seeds), then 400 more steps from its weights with softmax (control), favor-pos redrawn every 100 steps, favor-pos never redrawn, favor-relu, and favor-pos from scratch',
    pre: {
      name: 'source',
      full: ['train', '--objective', 'mlm', '--kernels', 'softmax', ...PROTEIN, '--steps', '1000'],
      quick: ['train', '--objective', 'mlm', '--kernels', 'softmax', ...QUICK_PROTEIN, '--steps', '30'],
    },
    full: [
      'train',
      '--objective',
      'mlm',
      '--init-from',
      '{pre}',
      '--kernels',
      'softmax,favor-pos,favor-pos+noredraw,favor-relu,favor-pos+scratch',
      '--redraw-every',
      '100',
      ...PROTEIN,
      '--steps',
      '400',
      '--eval-every',
      '25',
    ],
    quick: [
      'train',
      '--objective',
      'mlm',
      '--init-from',
      '{pre}',
      '--kernels',
      'softmax,favor-pos,favor-pos+noredraw,favor-pos+scratch',
      '--redraw-every',
      '10',
      ...QUICK_PROTEIN,
      '--steps',
      '20',
    ],
  },
  {
    id: 'train-step-time',
    title: 'Seconds per training step against L',
    kind: 'train-steps',
    description: 'the train-spam model (width 64, 2 layers, 2 heads, d_ff 128, m = 64, batch 16) on synthetic tokens, L = 128…4096, 5 interleaved rounds',
    full: ['train', '--step-time', '--seq-len', '128..4096', '--kernels', 'softmax,favor-pos,favor-relu', '--repeat', '5'],
    quick: [
      'train',
      '--step-time',
      '--seq-len',
      '32,64',
      '--kernels',
      'softmax,favor-pos',
      '--d-model',
      '16',
      '--layers',
      '1',
      '--d-ff',
      '32',
      '--batch',
      '2',
      '--repeat',
      '2',
    ],
  },
];
