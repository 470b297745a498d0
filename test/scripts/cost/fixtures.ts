import type { Deployment, Measured } from '../../../scripts/cost/model.ts';

/** A deployment of 10,000 one-minute series (16 state shards), the cost tests' starting point. */
export const smallDeployment: Deployment = {
  series: 10_000,
  resolutionSeconds: 60,
  seriesPerRequest: 500,
  runsPerMonth: 43_800,
  stateShards: 16,
  memoryRetentionHours: 2,
  retentionDays: 400,
  ingestMemoryGb: 1,
  bandsMemoryGb: 2,
  roundTripMs: 20,
  queryMs: 500,
};

/** What the benchmarks measure, in round figures (one read query a run). */
export const measuredFigures: Measured = {
  ingest: { requests: 5, writeUnits: 60, roundTrips: 1, storedBytesPerPoint: 120, cpuMs: 0.5 },
  bands: { requestsPerBand: 0.01, unitsPerBand: 0.11, storedBytes: 113 },
  read: { queriesPerRun: 1, readUnitsPerSeries: 0.01, scannedBytesPerSeries: 111 },
  cpuSecondsPerSeries: 0.000165,
  stateBytesPerSeries: 1339,
};
