/**
 * The API key secret in the cloud: a Secrets Manager secret the stack generates, read by the functions that
 * check keys (once per container, see KeyDigester). Its value is never logged: errors carry only the SDK's.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type KeySecretSource, KeySecretUnavailableError } from '../keys.ts';

/** The secret's string as UTF-8 bytes; a failed read is a 503 (KeySecretUnavailableError), safe to retry. */
export function secretsManagerKeySecret(
  secretId: string,
  client: SecretsManagerClient = new SecretsManagerClient({}),
): KeySecretSource {
  return async () => {
    let secretString: string | undefined;
    try {
      ({ SecretString: secretString } = await client.send(new GetSecretValueCommand({ SecretId: secretId })));
    } catch (error) {
      throw new KeySecretUnavailableError({ cause: error });
    }
    if (!secretString) throw new Error(`the key secret ${secretId} has no string value`);
    return Buffer.from(secretString, 'utf8');
  };
}
