/** Child-process entry: measures one point and sends the Measurement to the parent over IPC. */
import { measurePoint } from './measure.ts';
import type { BenchPoint, MeasureOptions } from './types.ts';

const job = JSON.parse(process.env.PERFORMER_BENCH_JOB ?? 'null') as { point: BenchPoint; measure: MeasureOptions } | null;
if (!job || !process.send) throw new Error('bench worker: run by the bench runner only');
const result = await measurePoint(job.point, job.measure);
process.send(result, () => process.exit(0));
