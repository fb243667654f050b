import { Command, Option } from 'commander';
import { PASSES, type Pass } from '../kernels/build.ts';
import { runExport } from '../kernels/export.ts';
import type { DType } from '../onnx/ir.ts';
import { print } from '../report/terminal.ts';
import { addKernelOptions, addShapeOptions, checkTensorSize, DTYPES, kernelConfig, oneOf, positiveInt, type KernelOptionValues } from './options.ts';

interface ExportOptions extends KernelOptionValues {
  kernel: string;
  batch: number;
  heads: number;
  seqLen: number;
  dim: number;
  dtype: DType;
  pass: Pass;
  output: string;
}

export const exportCommand = addKernelOptions(
  addShapeOptions(
    new Command('export')
      .description("write a kernel's ONNX graph (inputs q, k, v; output out; backward adds grad_out → grad_q, grad_k, grad_v)")
      .requiredOption('--kernel <name>', 'kernel to export (see `performer kernels`)')
      .requiredOption('-o, --output <file>', 'where to write the .onnx model'),
  ).option('--seq-len <L>', 'sequence length', positiveInt('--seq-len'), 1024),
)
  .addOption(new Option('--dtype <dtype>', 'element type').choices(DTYPES).default('float32', 'float32').argParser(oneOf('--dtype', DTYPES)))
  .addOption(new Option('--pass <pass>', 'forward graph, or forward+backward').choices(PASSES).default('forward', 'forward').argParser(oneOf('--pass', PASSES)))
  .action((o: ExportOptions) => {
    checkTensorSize(o, o.dtype);
    const r = runExport({
      kernel: o.kernel,
      shape: { batch: o.batch, heads: o.heads, seqLen: o.seqLen, dim: o.dim },
      config: kernelConfig(o),
      dtype: o.dtype,
      pass: o.pass,
      output: o.output,
    });
    print(`wrote ${r.path} (${r.nodes} nodes, ${r.bytes} bytes)`);
  });
