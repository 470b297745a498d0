/**
 * The band engines and the one the product uses by default. The band job imports `defaultEngine` from here.
 */
import type { BandEngineFactory } from './engine.ts';
import { seasonalMedianEngine } from './seasonal-median.ts';

export * from './engine.ts';
export { seasonalMedianEngine } from './seasonal-median.ts';

/** The engine new series get. */
export const defaultEngine: BandEngineFactory = seasonalMedianEngine;
