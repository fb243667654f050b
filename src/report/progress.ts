/**
 * Progress of a long run on stderr: on a terminal one line rewritten in place; elsewhere (a CI
 * log) one plain line at most every 10 seconds and at the end, so the log shows life; nothing
 * with --quiet.
 */
import { progress } from './terminal.ts';

const seconds = (ms: number | null) =>
  ms === null ? '' : ms < 90_000 ? `, about ${Math.ceil(ms / 1000)} s left` : `, about ${Math.round(ms / 60_000)} min left`;

interface Described {
  readonly kernel: string;
  readonly pass: string;
  readonly seqLen: number;
}

export function progressReporter(quiet: boolean, stream: NodeJS.WriteStream = process.stderr, everyMs = 10_000) {
  let last = 0;
  return {
    onStart(p: Described, i: number, total: number, eta: number | null): void {
      if (quiet) return;
      if (stream.isTTY) progress(`[${i + 1}/${total}] ${p.kernel} ${p.pass} L=${p.seqLen}${seconds(eta)}`);
      else if (i === 0 && last === 0) {
        last = Date.now();
        stream.write(`performer: ${total} measurement process${total > 1 ? 'es' : ''} to run, one per point and round\n`);
      }
    },
    onLimit(what: string, i: number, total: number): void {
      if (quiet) return;
      if (stream.isTTY) progress(`limit model: measuring ${what} [${i + 1}/${total}] (cached afterwards)`);
      else if (i === 0) stream.write(`performer: measuring ${total} rate${total > 1 ? 's' : ''} for the limit model (cached afterwards)\n`);
    },
    onDone(p: Described, done: number, total: number, eta: number | null): void {
      if (quiet || stream.isTTY) return;
      const now = Date.now();
      if (done < total && now - last < everyMs) return;
      last = now;
      stream.write(`performer: ${done}/${total} processes done (last: ${p.kernel} ${p.pass} L=${p.seqLen})${done < total ? seconds(eta) : ''}\n`);
    },
  };
}
