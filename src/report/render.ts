/** Vega-Lite spec → SVG (vega, headless) → PNG (resvg). */
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { Spec } from './plot-specs.ts';

export async function renderSvg(spec: Spec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec as unknown as TopLevelSpec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** PNG at twice the SVG's size, on white. */
export function svgToPng(svg: string): Uint8Array {
  return new Resvg(svg, { fitTo: { mode: 'zoom', value: 2 }, background: 'white', font: { loadSystemFonts: true } }).render().asPng();
}
