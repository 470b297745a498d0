/**
 * The band job's live window: every run reads the recent points of all series in one bulk read, from at most
 * this far back. A series whose points arrive older than this (backfilled history) is marked by ingest and
 * read on its own by the job's per-series path. Kept in its own file so the ingest bundle does not pull in
 * the band job.
 */
export const liveWindowMs = 10 * 60_000;

/** Whether an ingest request's oldest point of a series lies before the live window at `now`. */
export const isBackfill = (minTimestamp: number, now: number): boolean => minTimestamp < now - liveWindowMs;
