/**
 * The band engines and the one the product uses by default. The band job imports `defaultEngine` from here.
 */
import type { BandEngineFactory } from './engine.ts';
import { normalcyEngine } from './normalcy.ts';

export { detectorEngine, detectorEngineWith, detectorTuning, surpriseThreshold } from './detector.ts';
export * from './engine.ts';
export { normalcyEngine } from './normalcy.ts';
export { rollingZScoreEngine } from './rolling-z-score.ts';
export { seasonalMedianEngine } from './seasonal-median.ts';

/** The engine new series get: Normalcy (see normalcy.ts and BENCHMARKS.md). */
export const defaultEngine: BandEngineFactory = normalcyEngine;
