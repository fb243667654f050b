/** `performer export`: a kernel's graph as ONNX ModelProto bytes on disk. */
import { writeFileSync } from 'node:fs';
import { usage } from '../errors.ts';
import type { DType } from '../onnx/ir.ts';
import { serializeModel } from '../onnx/serialize.ts';
import { buildAttentionGraph, type Pass } from './build.ts';
import { getKernel } from './index.ts';
import type { AttentionShape, KernelConfig } from './types.ts';

export interface ExportRequest {
  kernel: string;
  shape: AttentionShape;
  config: KernelConfig;
  dtype: DType;
  pass: Pass;
  output: string;
}

/** Builds the graph and writes ModelProto bytes; returns what was written. */
export function runExport(req: ExportRequest): { path: string; bytes: number; nodes: number } {
  const kernel = getKernel(req.kernel);
  const { graph } = buildAttentionGraph({ kernel, shape: req.shape, config: req.config, dtype: req.dtype, pass: req.pass });
  const doc = `performer export --kernel ${req.kernel} ${JSON.stringify({ ...req.shape, ...req.config, dtype: req.dtype, pass: req.pass })}`;
  const bytes = serializeModel(graph, { docString: doc });
  try {
    writeFileSync(req.output, bytes);
  } catch (e) {
    throw usage('--output', `cannot write '${req.output}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'a writable file path');
  }
  return { path: req.output, bytes: bytes.length, nodes: graph.nodes.length };
}
