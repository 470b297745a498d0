import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Feedback } from '../feedback/model.ts';
import { type FeedbackStore, feedbackOrder } from '../ports/feedback-store.ts';
import { isConditionFailure, queryAll } from './dynamodb-documents.ts';

export interface DynamoDbFeedbackStoreOptions {
  /** The alert store's table: feedback lives in a partition of its own there. */
  readonly table: string;
  readonly client?: DynamoDBClient;
}

/** The partition that holds every feedback record (people give it by hand: a few thousand at most). */
const feedbackPartition = 'FEEDBACK';
const feedbackKey = (id: string) => ({ pk: feedbackPartition, sk: `FEEDBACK#${id}` });

interface FeedbackItem {
  readonly record: Feedback;
}

/**
 * Feedback in the alert store's DynamoDB table, partition `FEEDBACK`, one item per record (`FEEDBACK#<id>`),
 * the record as a map. A record is put only if absent, and withdrawn only once (the first withdrawal stays).
 */
export class DynamoDbFeedbackStore implements FeedbackStore {
  private readonly documents: DynamoDBDocumentClient;

  constructor(private readonly options: DynamoDbFeedbackStoreOptions) {
    this.documents = DynamoDBDocumentClient.from(options.client ?? new DynamoDBClient({}), {
      marshallOptions: { removeUndefinedValues: true },
    });
  }

  async putFeedback(feedback: Feedback): Promise<void> {
    await this.documents.send(
      new PutCommand({
        TableName: this.options.table,
        Item: { ...feedbackKey(feedback.id), record: feedback },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async getFeedback(id: string): Promise<Feedback | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.options.table, Key: feedbackKey(id), ConsistentRead: true }),
    );
    return (Item as FeedbackItem | undefined)?.record;
  }

  async listFeedback(query: { readonly seriesId?: string } = {}): Promise<Feedback[]> {
    const items = await queryAll<FeedbackItem>(this.documents, this.options.table, {
      KeyConditionExpression: 'pk = :feedback',
      ExpressionAttributeValues: { ':feedback': feedbackPartition },
      ConsistentRead: true,
    });
    const records = items.map((item) => item.record);
    const selected =
      query.seriesId === undefined ? records : records.filter((record) => record.seriesId === query.seriesId);
    return selected.sort(feedbackOrder);
  }

  async withdrawFeedback(id: string, at: number): Promise<Feedback | undefined> {
    try {
      const { Attributes } = await this.documents.send(
        new UpdateCommand({
          TableName: this.options.table,
          Key: feedbackKey(id),
          UpdateExpression: 'SET #record.withdrawnAt = :at',
          // Not withdrawn yet: its withdrawnAt is still null.
          ConditionExpression: 'attribute_exists(pk) AND attribute_type(#record.withdrawnAt, :null)',
          ExpressionAttributeNames: { '#record': 'record' },
          ExpressionAttributeValues: { ':at': at, ':null': 'NULL' },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return (Attributes as FeedbackItem | undefined)?.record;
    } catch (error) {
      // Unknown, or withdrawn already: the record as it is (or undefined) says which.
      if (isConditionFailure(error)) return this.getFeedback(id);
      throw error;
    }
  }
}
