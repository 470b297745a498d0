/**
 * A Secrets Manager secret's string, read when first needed and kept for the container's life (a failed read is
 * tried again on the next call). For settings that must not sit in the stack's template or the functions'
 * environment, such as an Alertmanager URL that carries Basic auth credentials. The value is never logged:
 * errors name the secret and carry only the SDK's error.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/** Reads `secretId`'s string once; the returned function gives the same promise until a read fails. */
export function secretsManagerString(
  secretId: string,
  client: SecretsManagerClient = new SecretsManagerClient({}),
): () => Promise<string> {
  let reading: Promise<string> | undefined;
  const read = async (): Promise<string> => {
    let value: string | undefined;
    try {
      ({ SecretString: value } = await client.send(new GetSecretValueCommand({ SecretId: secretId })));
    } catch (error) {
      throw new Error(`could not read the secret ${secretId}`, { cause: error });
    }
    if (!value?.trim()) throw new Error(`the secret ${secretId} has no string value`);
    return value.trim();
  };
  return () => {
    reading ??= read().catch((error: unknown) => {
      reading = undefined;
      throw error;
    });
    return reading;
  };
}
