/**
 * Reverse-mode autodiff over the IR (micrograd/tinygrad style): mark what depends on the
 * inputs we differentiate, walk the recorded nodes in reverse, apply each op's rule, sum.
 */
import { GraphError } from '../errors.ts';
import type { GraphBuilder } from '../onnx/builder.ts';
import { FLOAT_DTYPES, type Node, type Value } from '../onnx/ir.ts';
import { joinedPieces, joinedProducts } from './join.ts';
import { gradRule } from './rules.ts';

const differentiable = (v: Value) => FLOAT_DTYPES.includes(v.dtype);

/** Values that depend on `wrt` through differentiable, non-stop-gradient nodes. */
function dependents(nodes: readonly Node[], wrt: readonly Value[]): Set<string> {
  const live = new Set(wrt.map((v) => v.name));
  for (const n of nodes) {
    if (n.stopGradient || !n.inputs.some((v) => live.has(v.name))) continue;
    for (const o of n.outputs) if (differentiable(o)) live.add(o.name);
  }
  return live;
}

/**
 * Appends to `b` the nodes computing d(sum(output · seed))/d(wrt): one gradient per `wrt` value,
 * zeros where the output does not depend on it. Constants (projections, stabiliser shifts marked
 * stopGradient) get none.
 */
export function gradients(b: GraphBuilder, output: Value, wrt: readonly Value[], seed: Value): Value[] {
  const forward = [...b.nodes];
  const live = dependents(forward, wrt);
  const grads = new Map<string, Value[]>([[output.name, [seed]]]);
  const total = (v: Value): Value | undefined => {
    const parts = grads.get(v.name);
    if (!parts) return undefined;
    const shared = (g: Value) => [...grads].some(([name, gs]) => name !== v.name && gs.includes(g));
    const sum = [joinedProducts, joinedPieces].reduce((gs, join) => join(b, gs, shared), parts).reduce((acc, g) => b.add(acc, g));
    grads.set(v.name, [sum]);
    return sum;
  };
  for (let i = forward.length - 1; i >= 0; i--) {
    const node = forward[i]!;
    if (node.stopGradient || !node.outputs.some((o) => live.has(o.name) && grads.has(o.name))) continue;
    const upstream = node.outputs.map((o) => total(o) ?? b.fill(o.shape, 0));
    const inGrads = gradRule(node.op)(b, node, upstream);
    if (inGrads.length !== node.inputs.length) {
      throw new GraphError(`gradient rule for ${node.op} returned ${inGrads.length} gradients for ${node.inputs.length} inputs (node ${node.name})`);
    }
    node.inputs.forEach((x, k) => {
      const g = inGrads[k];
      if (!g || !live.has(x.name)) return;
      if (g.shape.length !== x.shape.length || g.shape.some((d, j) => d !== x.shape[j])) {
        throw new GraphError(`gradient rule for ${node.op} gave shape [${g.shape}] for input ${x.name} of shape [${x.shape}] (node ${node.name})`);
      }
      grads.set(x.name, [...(grads.get(x.name) ?? []), g]);
    });
  }
  return wrt.map((v) => total(v) ?? b.fill(v.shape, 0));
}
