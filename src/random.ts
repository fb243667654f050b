/**
 * The project's one seeded generator: projections, inputs, parameters, batches and data splits
 * all draw from it.
 *
 * PRNG: xoshiro128** (Blackman & Vigna 2018) seeded through splitmix32; 32-bit integer ops only,
 * so every machine gets the same bits. Uniforms take 53 bits from two outputs; Gaussians use
 * Box–Muller (V8's Math.log/cos/sin are its own fdlibm ports, identical on every platform).
 */

/** Seeded xoshiro128** generator. */
export class Rng {
  private s = new Uint32Array(4);
  private spare: number | undefined;

  /** @param seed a non-negative integer below 2^53; both 32-bit words feed every state word */
  constructor(seed: number) {
    const lo = seed >>> 0;
    const hi = Math.floor(seed / 2 ** 32) >>> 0;
    for (let i = 0; i < 4; i++) this.s[i] = (splitmix32(lo + (i + 1) * 0x9e3779b9) ^ splitmix32(hi + (i + 5) * 0x9e3779b9)) >>> 0;
    if (this.s.every((v) => v === 0)) this.s[0] = 1;
  }

  /** Next 32-bit unsigned integer. */
  nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = s[1]! << 9;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    return ((this.nextU32() >>> 5) * 67108864 + (this.nextU32() >>> 6)) / 9007199254740992;
  }

  /** Standard normal (Box–Muller, both values used). */
  gaussian(): number {
    if (this.spare !== undefined) {
      const v = this.spare;
      this.spare = undefined;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    const theta = 2 * Math.PI * this.uniform();
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }
}

/** splitmix32's output mix of x (mod 2^32). */
function splitmix32(x: number): number {
  let z = x | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
