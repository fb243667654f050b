import { type RatioTest, yuenLogRatio } from '../../src/stats/significance.ts';

/**
 * Welch's unequal-variance t test on log values (Welch 1947; Satterthwaite 1946 df), the unpaired
 * reference the tests compare the paired test against. It is Yuen's test with nothing trimmed
 * (g = 0: the winsorized variance is the sample variance, d = s²/n), so the tests of it check the
 * production yuenLogRatio at trim 0.
 */
export const welchLogRatio = (base: readonly number[], cur: readonly number[], alpha: number): RatioTest | null => yuenLogRatio(base, cur, alpha, 0);
