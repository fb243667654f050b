/**
 * `performer reproduce`: runs an experiment's command line in a child `performer`, then writes
 * data.json/csv, table.md and the figure (SVG, PNG and its Vega-Lite spec) into <out>/<id>/.
 */
import { spawn } from 'node:child_process';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Experiment } from '../../experiments/index.ts';
import type { HeadStats } from '../error/given.ts';
import { usage } from '../errors.ts';
import { ensureDir, JOURNAL, writeAtomic } from '../results/files.ts';
import { RESULT_KINDS } from '../results/kinds.ts';
import { readResults } from '../results/read.ts';
import type { TrainDocument } from '../train/types.ts';
import { PROJECT_ROOT } from '../version.ts';
import { inputStatsTable, pairedErrorTable } from './error.ts';
import { estimatorGaps, GAP_NOTE, gapTable } from './estimator-gap.ts';
import { formatResults, type ResultsDocument, viewOf } from './output.ts';
import { plotSpec } from './plot.ts';
import type { Spec } from './plot-specs.ts';
import { claimRows, claimTable, fig4Spec, gapCells, panelRows, regimeSpec } from './regime.ts';
import { renderSvg, svgToPng } from './render.ts';

const bin = new URL('bin/performer.js', PROJECT_ROOT).pathname;

/**
 * Runs `performer args…` in a child; its exit code 2 means the definition itself is wrong. A stop
 * signal of ours (Ctrl-C, SIGTERM) is passed on to the child, which keeps what it finished.
 */
function performer(args: readonly string[], signal?: AbortSignal): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
    const stop = () => child.kill('SIGTERM');
    signal?.addEventListener('abort', stop, { once: true });
    child.on('error', reject);
    child.on('exit', (code, sig) => {
      signal?.removeEventListener('abort', stop);
      if (code === 2) reject(new Error(`experiment command failed as a usage error: performer ${args.join(' ')}`));
      else resolve(code ?? (sig === 'SIGTERM' ? 143 : 130));
    });
  });
}

/** Exit codes 0 (all points ok) and 1 (some failed) mean the measurement ran to its end. */
export const completed = (code: number) => code === 0 || code === 1;

/** table.md of an experiment: the command and machine, then its kind's Markdown with the claims its definition asks for. */
export function experimentTable(exp: Experiment, dataJson: string): string {
  // Read through the kinds table: theory utility data written without a kind gets its kind here.
  const doc = readResults(dataJson, 'data.json', RESULT_KINDS) as unknown as ResultsDocument & { environment?: Record<string, unknown> };
  const env = doc.environment ?? {};
  const head = `# ${exp.title}\n\nCommand: \`${env.commandLine ?? `performer ${exp.full.join(' ')}`}\`  \nMachine: ${env.cpuModel}, ${env.cores} cores, ONNX Runtime ${env.onnxruntimeVersion}, Node ${env.nodeVersion}, performer ${env.performerVersion} (${env.gitCommit ?? 'no commit'}), ${env.timestamp}\n\n`;
  if (doc.kind === 'train' && exp.pre) {
    const source = join(dataJson, '..', `${exp.pre.name}.json`);
    const src = existsSync(source)
      ? (readResults(source, `${exp.pre.name}.json`, ['train']) as unknown as TrainDocument & { environment?: { commandLine?: string } })
      : null;
    const pre = src
      ? `\n## The run it started from (${exp.pre.name}.json)\n\nCommand: \`${src.environment?.commandLine ?? ''}\`\n\n${formatResults(src, 'markdown')}`
      : '';
    return head + formatResults(doc, 'markdown') + pre;
  }
  if (doc.kind !== 'error') return head + formatResults(doc, 'markdown');
  // Error experiments: the claims, pairings and input statistics their definition asks for, above the table.
  const gaps = estimatorGaps(doc.records);
  const gapPart = gaps.length ? `${GAP_NOTE}\n\n${gapTable(gaps)}\n` : '';
  if (exp.kind === 'regime') return `${head}${REGIME_NOTE}\n\n${claimTable(claimRows(doc.records))}\n${gapPart}${formatResults(doc, 'markdown')}`;
  const claims = exp.panels?.some((p) => p.claim !== 'all') ? `${PANEL_NOTE}\n\n${claimTable(panelRows(doc.records, exp.panels))}\n` : '';
  const baseline = exp.baseline
    ? `Every case against ${exp.baseline} on paired seeds (geometric-mean ratio of the output MSE, 95% interval, one-sided paired t-tests on the log-ratios):\n\n${pairedErrorTable(doc.records, exp.baseline, 0.05, true)}\n\n`
    : '';
  const inputs = doc.inputs ? `${GIVEN_NOTE}\n\n${inputStatsTable(doc.inputs.heads as HeadStats[], true)}\n` : '';
  return head + inputs + claims + baseline + gapPart + formatResults(doc, 'markdown');
}

const REGIME_NOTE =
  'Each row: the output MSE of two cases measured on the same seeds (same inputs, same projection seed); the ratio is the geometric mean of the per-seed ratios with a 95% interval, the p-value a one-sided paired t-test on their logarithms (H₀: ratio ≥ 1, no multiple-comparison correction). "Closed form" is the kernel-level prediction at these inputs: the ratio of the closed-form relative MSEs, MSE/SM² (Lemma 2; orthogonal rows: the exact value), averaged over 256 input pairs, since attention normalises each row and its output error follows the relative error of the kernel. "Thm 2 bound / iid" is the Theorem 2 bound (absolute, m ≤ d) over the iid closed form.';
const GIVEN_NOTE =
  "Inputs: the q, k, v of a trained model (performer capture; raw projections, scaled by d^(-1/4) here), per layer and head; each seed draws only the projection. Per head: mean ‖x‖², ‖y‖² and ‖x+y‖² over (query, key) pairs of one sequence after the scaling (the regime map's axis), the keys' covariance anisotropy λmax/λmin, the mean entropy of the exact attention rows, and the largest difference between float64 exact attention on the captured inputs and the model's own float32 output (the round trip). Host-side SDERF/ADERF rows (estimator exact) are float64 without ε; they pair with the graph rows on the same projections.";
const PANEL_NOTE =
  "Paired statistics of each panel's claim at its input scale (same seeds on both sides; one-sided paired t-test on the log-ratios, no correction across m):";

/**
 * The experiment's figure: the regime map and Fig. 4 panels where the definition asks for them;
 * training and given-input figures under the experiment's title; else the plot of its data.
 */
function figureSpec(exp: Experiment, dataJson: string): Spec {
  const doc = readResults(dataJson, 'data.json', RESULT_KINDS) as unknown as ResultsDocument & { environment: Record<string, unknown>; inputs?: unknown };
  const own = exp.kind === 'regime' || exp.kind === 'train' || exp.panels || doc.inputs;
  if (!own) return plotSpec(dataJson);
  const env = doc.environment;
  const caption = { title: exp.title, machine: `${String(env.cpuModel)}, ${String(env.cores)} cores, ONNX Runtime ${String(env.onnxruntimeVersion)}` };
  if (doc.kind !== 'error' || (exp.kind !== 'regime' && !exp.panels)) return viewOf(doc).figure!(doc, caption);
  return exp.kind === 'regime' ? regimeSpec(claimRows(doc.records), caption, gapCells(doc.records)) : fig4Spec(doc.records, exp.panels!, caption);
}

/** Runs one experiment into `<out>/<id>/`; returns the exit code of its measurement. */
export async function reproduce(exp: Experiment, quick: boolean, out: string, resume = false, signal?: AbortSignal): Promise<number> {
  const dir = join(out, exp.id);
  ensureDir(dir);
  const args = quick ? exp.quick : exp.full;
  // An interrupted bench experiment leaves its journal (results.jsonl) in dir; --resume runs only
  // the points it lacks. Error and utility experiments are minutes long and simply rerun.
  const again = resume && (exp.kind === 'bench' || exp.kind === 'train') && existsSync(join(dir, JOURNAL)) ? ['--resume'] : [];
  let code: number;
  const pre = exp.pre ? join(dir, exp.pre.name) : null;
  if (exp.pre && pre) {
    // The run the experiment starts from; a finished one (results.json) is kept across --resume.
    if (!(resume && existsSync(join(pre, 'results.json')))) {
      const preAgain = resume && existsSync(join(pre, JOURNAL)) ? ['--resume'] : [];
      code = await performer([...(quick ? exp.pre.quick : exp.pre.full), ...preAgain, '--out', pre, '--format', 'json'], signal);
      if (signal?.aborted && completed(code)) code = 130;
      if (code !== 0) return code;
    }
  }
  const main = args.map((a) => (a === '{pre}' && pre ? pre : a));
  if (exp.kind === 'utility') {
    code =
      (await performer([...args, '--format', 'csv', '-o', join(dir, 'data.csv')], signal)) ||
      (await performer([...args, '--format', 'json', '-o', join(dir, 'data.json')], signal));
  } else {
    code = await performer([...main, ...again, '--out', dir, '--format', 'json'], signal);
    if (signal?.aborted && completed(code)) code = 130; // stopped between points: not a finished run
    // Interrupted or killed: keep the journal for --resume and write nothing more.
    if (!completed(code)) return code;
    renameSync(join(dir, 'results.json'), join(dir, 'data.json'));
    renameSync(join(dir, 'results.csv'), join(dir, 'data.csv'));
    rmSync(join(dir, JOURNAL), { force: true });
    rmSync(join(dir, 'checkpoints'), { recursive: true, force: true });
    if (exp.pre && pre) {
      renameSync(join(pre, 'results.json'), join(dir, `${exp.pre.name}.json`));
      rmSync(pre, { recursive: true, force: true });
    }
  }
  await render(exp, dir);
  return code;
}

/** table.md and the figure (its Vega-Lite spec, SVG and PNG) from the experiment's data.json in `dir`. */
export async function render(exp: Experiment, dir: string): Promise<void> {
  if (!existsSync(join(dir, 'data.json'))) throw usage('--render-only', `no ${join(dir, 'data.json')} to draw from`, 'run the experiment first');
  writeAtomic(join(dir, 'table.md'), experimentTable(exp, join(dir, 'data.json')));
  const spec = figureSpec(exp, join(dir, 'data.json'));
  const svg = await renderSvg(spec);
  writeAtomic(join(dir, 'figure.vl.json'), `${JSON.stringify(spec, null, 2)}\n`);
  writeAtomic(join(dir, 'figure.svg'), svg);
  writeAtomic(join(dir, 'figure.png'), svgToPng(svg));
}
