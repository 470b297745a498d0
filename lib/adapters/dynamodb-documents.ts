/**
 * What the DynamoDB stores that share the alert table do alike: read every page of a query, and tell a failed
 * condition (another writer was first) from a real error.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';

/** Whether a write was refused by its condition: an expected outcome, not a fault. */
export const isConditionFailure = (error: unknown): boolean =>
  error instanceof ConditionalCheckFailedException;

/**
 * Every item of a query, page after page, at most `limit` (each page asks for no more than it still needs, and
 * at most 1,000).
 */
export async function queryAll<T>(
  documents: DynamoDBDocumentClient,
  table: string,
  input: Omit<QueryCommandInput, 'TableName'>,
  limit = Number.POSITIVE_INFINITY,
): Promise<T[]> {
  const items: T[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await documents.send(
      new QueryCommand({
        ...input,
        TableName: table,
        ...(Number.isFinite(limit) && { Limit: Math.min(limit - items.length, 1000) }),
        ExclusiveStartKey: startKey,
      }),
    );
    items.push(...((page.Items ?? []) as T[]));
    startKey = page.LastEvaluatedKey;
  } while (startKey && items.length < limit);
  return items;
}
