/**
 * One self-contained HTML page per run: for each results file its command line, environment,
 * figures (inline SVG: timing or error figure, and the sample distributions of bench runs),
 * table, noise warnings and, given a baseline, the compare verdicts. No scripts, no fetches.
 */
import { readFileSync } from 'node:fs';
import type { BenchRecord } from '../bench/types.ts';
import type { CompareOutcome } from '../ci/compare.ts';
import type { ErrorRecord } from '../error/sweep.ts';
import type { KeyedKind } from '../results/kinds.ts';
import { benchMarkdownRows } from './bench.ts';
import { isNoisy } from './bench-table.ts';
import { errorTable } from './error.ts';
import { distributionPlotSpec, plotSpec } from './plot.ts';
import { VIEWS } from './output.ts';
import { renderSvg } from './render.ts';

const esc = (s: unknown) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const table = (head: readonly string[], rows: readonly (readonly (string | number)[])[]) =>
  `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;

/** An SVG from vega, made embeddable: no XML prolog, a figure wrapper with a caption. */
const figure = (svg: string, caption: string) => `<figure>${svg.replace(/^<\?xml[^>]*>\s*/, '')}<figcaption>${esc(caption)}</figcaption></figure>`;

interface Section {
  readonly path: string;
  readonly verdicts?: CompareOutcome | undefined;
  /** Whether today's code builds the graphs the file recorded (report/status.ts). */
  readonly graphs?: { status: string; detail: string } | undefined;
}

async function section({ path, verdicts, graphs }: Section): Promise<string> {
  const doc = JSON.parse(readFileSync(path, 'utf8')) as {
    kind?: string;
    environment?: Record<string, unknown>;
    options?: Record<string, unknown>;
    records: unknown[];
  };
  const env = doc.environment ?? {};
  const parts = [`<section><h2>${esc(path)}</h2>`, `<p class="cmd"><code>${esc(env.commandLine ?? '(no command recorded)')}</code></p>`];
  if (graphs) parts.push(`<p class="${graphs.status === 'stale' ? 'warn' : ''}">Graphs: ${esc(graphs.status)} (${esc(graphs.detail)})</p>`);
  parts.push(
    `<details><summary>environment</summary>${table(
      ['field', 'value'],
      Object.entries(env).map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : String(v)]),
    )}</details>`,
  );
  parts.push(figure(await renderSvg(plotSpec(path)), VIEWS[doc.kind as KeyedKind].caption));
  if (doc.kind === 'bench') {
    const records = doc.records as BenchRecord[];
    if (records.some((r) => r.samplesMs?.length))
      parts.push(figure(await renderSvg(distributionPlotSpec(path)), "the distribution of each point's timed samples and process medians"));
    const noisy = records.filter(isNoisy);
    if (noisy.length)
      parts.push(
        `<p class="warn">${noisy.length} noisy point${noisy.length > 1 ? 's' : ''} (95% margin of error above 10%): ${esc(noisy.map((r) => `${r.kernel} ${r.pass} L=${r.seqLen}`).join(', '))}. Rerun with --repeat N or on a quieter machine.</p>`,
      );
    const md = benchMarkdownRows(records);
    parts.push(table(md.head, md.rows));
  } else {
    const t = errorTable(doc.records as ErrorRecord[]);
    parts.push(table(t.head, t.rows));
  }
  if (verdicts) {
    const counts = ['slower', 'faster', 'unchanged', 'inconclusive', 'invalid']
      .map((v) => `${verdicts.rows.filter((r) => r.verdict === v).length} ${v}`)
      .join(', ');
    parts.push(`<h3>Against the baseline</h3><p class="${verdicts.code ? 'warn' : ''}">${esc(counts)}</p>`);
    parts.push(
      table(
        ['point', 'ratio', '95% CI', 'p slower', 'detectable', 'n', 'verdict'],
        verdicts.rows.map((r) => [
          r.label,
          r.ratio?.toFixed(3) ?? '–',
          r.lo !== null && r.hi !== null ? `${r.lo.toFixed(3)}–${r.hi.toFixed(3)}` : '–',
          r.p?.toPrecision(2) ?? '–',
          r.detectable?.toFixed(3) ?? '–',
          `${r.n[0]}/${r.n[1]}`,
          r.verdict,
        ]),
      ),
    );
  }
  parts.push('</section>');
  return parts.join('\n');
}

const STYLE = `body{font-family:'DejaVu Sans',sans-serif;max-width:1400px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;font-size:13px;margin:1em 0}th,td{border:1px solid #ccc;padding:2px 6px;text-align:right}th{background:#f3f3f3}
td:first-child,th:first-child{text-align:left}figure{margin:1em 0}figure svg{max-width:100%;height:auto}figcaption{color:#555;font-size:13px}
.cmd code{background:#f5f5f5;padding:2px 4px}.warn{color:#a15c00}section{border-top:1px solid #ddd;margin-top:2em}`;

/** The page for these results files (each with its verdicts against a baseline, when given). */
export async function reportHtml(sections: readonly Section[], title = 'performer report'): Promise<string> {
  const body = [];
  for (const s of sections) body.push(await section(s));
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><style>${STYLE}</style></head>\n<body><h1>${esc(title)}</h1>\n${body.join('\n')}\n</body></html>\n`;
}

/** results/index.html: one entry per experiment with its figure, table and data. */
export function indexHtml(
  experiments: readonly { id: string; title: string; description: string }[],
  statuses: ReadonlyMap<string, { status: string; detail: string; commit: string | null; date: string | null }> = new Map(),
): string {
  const state = (id: string) => {
    const s = statuses.get(id);
    return s
      ? `<p class="${s.status === 'stale' ? 'warn' : ''}">Data: ${esc(s.commit ?? 'no commit')}, ${esc(s.date ?? 'no date')}; ${esc(s.status)} (${esc(s.detail)})</p>`
      : '';
  };
  const items = experiments.map(
    (e) =>
      `<section><h2>${esc(e.title)}</h2><p>${esc(e.description)}</p>${state(e.id)}<p><a href="${esc(e.id)}/table.md">table</a> · <a href="${esc(e.id)}/data.json">data.json</a> · <a href="${esc(e.id)}/data.csv">data.csv</a> · <a href="${esc(e.id)}/figure.svg">figure</a></p><img src="${esc(e.id)}/figure.png" alt="${esc(e.title)}" style="max-width:100%"></section>`,
  );
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>performer: the paper's figures</title><style>${STYLE}</style></head>\n<body><h1>The paper's figures, reproduced by performer</h1>\n${items.join('\n')}\n</body></html>\n`;
}
