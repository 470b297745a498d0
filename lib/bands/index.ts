import type { BandEngineFactory } from './engine.ts';
import { seasonalMedianEngine } from './seasonal-median.ts';

export type { BandEngine, BandEngineFactory, BandResult, BandSettings, EngineState } from './engine.ts';

/** The engine the band job uses. */
export const defaultEngine: BandEngineFactory = seasonalMedianEngine;
