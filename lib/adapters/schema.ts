/**
 * The names the stack and the cloud adapters must agree on: DynamoDB index names and projections, key
 * prefixes the stack grants access to, S3 object keys. No SDK import here (nor anywhere this file imports):
 * the stack (cdk/stack.ts) reads these names without loading an adapter, and so without the AWS SDK.
 */

/** The sparse index of transitions still to deliver (partition `pendingShard`, sort `deliverOrder`). */
export const pendingTransitionsIndex = 'pendingTransitions';
/** Alerts by state (partition `alertState`) and start (sort `startedAt`, a number). */
export const alertsByStateIndex = 'alertsByState';
/**
 * The key prefix of incidents in the alert table (their board, each incident and its transitions); listed
 * through the alerts-by-state index under the partitions `INCIDENT#open` and `INCIDENT#resolved`.
 */
export const incidentItemPrefix = 'INCIDENT#';

/** The sparse index listing anomalous buckets by day. */
export const anomalyIndex = 'anomalies';

/** The sparse index that holds only series with unprocessed data. */
export const pendingIndex = 'pending';
/**
 * The index of the series catalog in (name, id) order: one partition (`catalogShard`), sorted by
 * `catalogKey`. It projects only what listing filters on, so the band job's frequent progress writes do not
 * rewrite it.
 */
export const catalogIndex = 'catalog';
export const catalogIndexAttributes = ['name', 'type', 'dimensions', 'anomalous'] as const;
/** The partition key prefix of API key items (the stack grants key refiling on these items only). */
export const keyItemPrefix = 'KEY#';

/** The default prefix of the state store's objects (the stack grants access to exactly these keys). */
export const stateKeyPrefix = 'state/';
/** The key of a shard, and of the summaries document, under the store's prefix. */
export const shardKey = (prefix: string, shard: string): string => `${prefix}shards/${shard}.json.gz`;
export const summariesKey = (prefix: string): string => `${prefix}summaries.json.gz`;
/** The key of the layout record (the shard count the shards were written with, see lib/jobs/reshard.ts). */
export const layoutKey = (prefix: string): string => `${prefix}layout.json.gz`;
/** The key of the listing summaries a fan-out worker leaves for its batch of shards (named by its first shard). */
export const summaryPartKey = (prefix: string, firstShard: string): string =>
  `${prefix}parts/${firstShard}.json.gz`;
