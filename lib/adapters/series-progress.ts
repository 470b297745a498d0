import type { EngineState } from '../bands/engine.ts';
import type { SeriesProgress } from '../ports/series-store.ts';

/**
 * A series' progress from the fields a catalog keeps it in (the engine state as JSON text, as the band job
 * wrote it): undefined while any of them is missing, that is before the band job first fed the series.
 * Shared by the SQLite and DynamoDB catalogs, so the two read it alike.
 */
export function storedProgress(fields: {
  readonly stepMs?: number | null;
  readonly processedUntil?: number | null;
  readonly engineState?: string | null;
  readonly anomalous: boolean;
}): SeriesProgress | undefined {
  const { stepMs, processedUntil, engineState, anomalous } = fields;
  if (stepMs == null || processedUntil == null || engineState == null) return undefined;
  return { stepMs, processedUntil, engineState: JSON.parse(engineState) as EngineState, anomalous };
}
