/** Child-process entry: measures one point, or a group interleaved, and sends the Measurements over IPC. */
import { measureInterleaved, measurePoint } from './measure.ts';
import type { BenchPoint, MeasureOptions } from './types.ts';

const job = JSON.parse(process.env.PERFORMER_BENCH_JOB ?? 'null') as { points: BenchPoint[]; measure: MeasureOptions } | null;
if (!job || !process.send) throw new Error('bench worker: run by the bench runner only');
const result = job.points.length === 1 ? [await measurePoint(job.points[0]!, job.measure)] : await measureInterleaved(job.points, job.measure);
process.send(result, () => process.exit(0));
