/**
 * What the DynamoDB stores that share the alert table do alike: read every page of a query, and tell a failed
 * condition (another writer was first) from a real error.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';

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

/** Where a transition lives: its item's key. */
type ItemKey = Readonly<Record<'pk' | 'sk', string>>;

/**
 * The writes of an outbox of transitions (alerts' and incidents' alike): each transition an item, pending ones
 * in the pending-transitions index under their store's mark, claimed with a lease, then finished or deferred.
 * Every write is conditional on the transition still being pending.
 */
export const outbox = {
  /** The pending transitions of one store, in delivery order (the index's sort key). */
  pending: (pendingIndex: string, pendingMark: string): Omit<QueryCommandInput, 'TableName'> => ({
    IndexName: pendingIndex,
    KeyConditionExpression: 'pendingShard = :pending',
    ExpressionAttributeValues: { ':pending': pendingMark },
  }),

  /** Takes a pending transition until `leaseUntil`, unless another run holds an unexpired lease. */
  claim: (table: string, key: ItemKey, leaseUntil: number, now: number): UpdateCommand =>
    new UpdateCommand({
      TableName: table,
      Key: key,
      UpdateExpression: 'SET claimedUntil = :until ADD attempts :one',
      ConditionExpression:
        '#status = :pending AND (attribute_not_exists(claimedUntil) OR claimedUntil <= :now)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':until': leaseUntil, ':one': 1, ':pending': 'pending', ':now': now },
    }),

  /** Marks it sent or suppressed: out of the pending index for good. */
  finish: (
    table: string,
    key: ItemKey,
    outcome: { readonly status: 'sent' | 'suppressed'; readonly at: number; readonly reason: string | null },
  ): UpdateCommand =>
    new UpdateCommand({
      TableName: table,
      Key: key,
      UpdateExpression:
        'SET #status = :status, reason = :reason, decidedAt = :at REMOVE pendingShard, claimedUntil',
      ConditionExpression: '#status = :pending',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':status': outcome.status,
        ':reason': outcome.reason,
        ':at': outcome.at,
        ':pending': 'pending',
      },
    }),

  /** Leaves it pending, not before `deliverAfter`, noting the error; the lease is given up. */
  defer: (table: string, key: ItemKey, deliverAfter: number, error: string | null): UpdateCommand =>
    new UpdateCommand({
      TableName: table,
      Key: key,
      UpdateExpression: `SET deliverAfter = :after${error === null ? '' : ', lastError = :error'} REMOVE claimedUntil`,
      ConditionExpression: '#status = :pending',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':after': deliverAfter,
        ':pending': 'pending',
        ...(error !== null && { ':error': error }),
      },
    }),
};
