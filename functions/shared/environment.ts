/** The settings the stack passes to the functions in their environment. */
/** Reads a required environment variable; a missing one is a deployment error, reported by name. */
export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

/** The DynamoDB table of the series catalog, key hashes and pending marks. */
export const stateTable = (): string => requiredEnv('STATE_TABLE');

/** The bucket of the band job's state shards and the listing summaries. */
export const stateBucket = (): string => requiredEnv('STATE_BUCKET');

/** The DynamoDB table of alert rules and alert state. */
export const alertTable = (): string => requiredEnv('ALERT_TABLE');

/** The Secrets Manager secret API keys are filed under (HMAC-SHA256); read by the functions that check keys. */
export const keySecretArn = (): string => requiredEnv('KEY_SECRET_ARN');
