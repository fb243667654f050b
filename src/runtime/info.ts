/** Which execution providers really load on this machine ("bundled" is not "loadable"). */
import { GraphBuilder } from '../onnx/builder.ts';
import { EXECUTION_PROVIDERS, type ExecutionProvider, Session } from './session.ts';

export interface ProviderStatus {
  name: ExecutionProvider;
  loadable: boolean;
  error?: string;
}

/** Whether `ep` really starts a session here: null, or the reason it cannot. */
export async function providerProblem(ep: ExecutionProvider): Promise<string | null> {
  if (ep === 'cpu') return null;
  const b = new GraphBuilder('probe');
  try {
    await (await Session.fromGraph(b.build([b.named(b.exp(b.input('x', [1])), 'y')]), { ep })).release();
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Tries a one-node session on each provider we support. */
export async function probeProviders(): Promise<ProviderStatus[]> {
  const b = new GraphBuilder('probe');
  const graph = b.build([b.named(b.exp(b.input('x', [1])), 'y')]);
  const providers: ProviderStatus[] = [];
  for (const name of EXECUTION_PROVIDERS) {
    try {
      await (await Session.fromGraph(graph, { ep: name })).release();
      providers.push({ name, loadable: true });
    } catch (e) {
      providers.push({ name, loadable: false, error: (e as Error).message });
    }
  }
  return providers;
}
