/**
 * The band job's live window: every run reads the recent points of all series in one bulk read, from at most
 * this far back (in a container that ran before, from where its last read ended less {@link readMarginMs}).
 * Kept in its own file so the ingest bundle does not pull in the band job; in lib/metrics so that ingest, the
 * band job and the stores import it from below.
 */
export const liveWindowMs = 10 * 60_000;

/**
 * How far before the end of its previous read the job's bulk read starts: a point that arrives at most this
 * late (an agent's flush delay) is still in the job's next read, which tells a late point from one it fed (see
 * `recentFed` in the band job). Points older than this when they arrive are marked by ingest instead.
 */
export const readMarginMs = 2 * 60_000;

/**
 * Whether an ingest request's oldest point of a series may lie before what the band job's next bulk read
 * covers at `now`: backfilled history, or points an agent held back. Ingest then marks the series, and the
 * job looks at its history from that point on (judging again what it judged without it).
 */
export const isBackfill = (minTimestamp: number, now: number): boolean => minTimestamp < now - readMarginMs;
