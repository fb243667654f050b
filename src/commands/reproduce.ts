import { join } from 'node:path';
import { Command, Option } from 'commander';
import { EXPERIMENTS } from '../../experiments/index.ts';
import { usage } from '../errors.ts';
import { print, renderTable } from '../report/terminal.ts';
import { onStopSignal } from './options.ts';
import { JOURNAL, writeAtomic } from '../results/files.ts';

export const reproduceCommand = new Command('reproduce')
  .description("regenerate the paper's figures: data.csv, data.json, table.md, figure.svg and figure.png per experiment")
  .argument('[id]', "an experiment id, or 'all'")
  .option('--list', 'list the experiments', false)
  .option('--quick', 'a reduced grid (CI-sized, under a minute each)', false)
  .addOption(new Option('--out <dir>', 'where results/<id>/ go').default('results', 'results'))
  .option('--resume', 'continue an interrupted bench experiment from <out>/<id>/results.jsonl', false)
  .option('--render-only', 'redraw table.md and the figure from the data.json already in <out>/<id>/ (no measurement)', false)
  .option('--status', "whether today's code builds the graphs each committed result was measured with (no timing; exit 1 if any is stale)", false)
  .option('--json', 'with --status: the table as JSON', false)
  .action(
    async (id: string | undefined, o: { list: boolean; quick: boolean; out: string; resume: boolean; renderOnly: boolean; status: boolean; json: boolean }) => {
      if (o.json && !o.status) throw usage('--json', 'only with --status');
      if (o.status) {
        const { experimentStatus } = await import('../report/status.ts');
        const pick = !id || id === 'all' ? EXPERIMENTS : EXPERIMENTS.filter((e) => e.id === id);
        if (!pick.length) throw usage('<id>', `unknown experiment '${id}'`, ['all', ...EXPERIMENTS.map((e) => e.id)].join(', '));
        const rows = [];
        for (const e of pick) rows.push(await experimentStatus(e, o.out));
        print(
          o.json
            ? JSON.stringify(rows, null, 2)
            : renderTable(
                ['experiment', 'data commit', 'date', 'status', 'detail'],
                rows.map((r) => [r.id, r.commit ?? '–', r.date ?? '–', r.status, r.detail]),
              ),
        );
        process.exitCode = rows.some((r) => r.status === 'stale') ? 1 : 0;
        return;
      }
      if (!id && !o.list) {
        // --quick, --resume or --render-only say what to do with an experiment: without one, listing would drop them.
        const given = (['quick', 'resume', 'renderOnly'] as const).find((k) => o[k]);
        if (given)
          throw usage(
            '<id>',
            `--${given === 'renderOnly' ? 'render-only' : given} needs an experiment id`,
            ['all', ...EXPERIMENTS.map((e) => e.id)].join(', '),
          );
      }
      if (o.list || !id)
        return print(
          renderTable(
            ['id', 'what'],
            EXPERIMENTS.map((e) => [e.id, `${e.title}: ${e.description}`]),
          ),
        );
      const chosen = id === 'all' ? EXPERIMENTS : EXPERIMENTS.filter((e) => e.id === id);
      if (!chosen.length) throw usage('<id>', `unknown experiment '${id}'`, ['all', ...EXPERIMENTS.map((e) => e.id)].join(', '));
      const { completed, render, reproduce } = await import('../report/reproduce.ts');
      const writeIndex = async () => {
        if (id !== 'all') return;
        const [{ indexHtml }, { experimentStatus }] = await Promise.all([import('../report/html.ts'), import('../report/status.ts')]);
        const statuses = new Map<string, Awaited<ReturnType<typeof experimentStatus>>>();
        for (const e of EXPERIMENTS) statuses.set(e.id, await experimentStatus(e, o.out));
        writeAtomic(join(o.out, 'index.html'), indexHtml(EXPERIMENTS, statuses));
        print(`index: ${join(o.out, 'index.html')}`);
      };
      if (o.renderOnly) {
        for (const exp of chosen) {
          await render(exp, join(o.out, exp.id));
          print(`${exp.id}: redrew ${join(o.out, exp.id)}`);
        }
        return writeIndex();
      }
      let failed = 0;
      const stop = onStopSignal();
      for (const exp of chosen) {
        const code = await reproduce(exp, o.quick, o.out, o.resume, stop.signal).catch((e: unknown) => {
          stop.dispose();
          throw e;
        });
        if (!completed(code) || stop.signal.aborted) {
          stop.dispose();
          const kept =
            exp.kind === 'bench'
              ? `finished points kept in ${join(o.out, exp.id, JOURNAL)} (continue with performer reproduce ${exp.id} --resume${o.quick ? ' --quick' : ''} --out ${o.out})`
              : `rerun with performer reproduce ${exp.id}${o.quick ? ' --quick' : ''} --out ${o.out}`;
          process.stderr.write(`${exp.id}: interrupted${stop.signal.aborted ? ` (${stop.received()})` : ''}; ${kept}\n`);
          process.exitCode = stop.signal.aborted ? stop.exitCode() : code;
          return;
        }
        failed += code ? 1 : 0;
        print(`${exp.id}: ${join(o.out, exp.id)}${code ? ' (some points failed; see data.json)' : ''}`);
      }
      stop.dispose();
      await writeIndex();
      process.exitCode = failed ? 1 : 0;
    },
  );
