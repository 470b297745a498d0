import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbFeedbackStore } from '../../lib/adapters/dynamodb-feedback-store.ts';
import type { Feedback } from '../../lib/feedback/model.ts';

/** The exact requests DynamoDbFeedbackStore sends (what it does with them: the contract on dynalite). */
const ddbMock = mockClient(DynamoDBDocumentClient);
const table = 'normalcy-alerts';
const store = () => new DynamoDbFeedbackStore({ table, client: new DynamoDBClient({ region: 'eu-west-1' }) });
const t0 = Date.UTC(2025, 10, 24, 14, 0);
const feedback = (id: string, seriesId = 'series-a', at = t0): Feedback => ({
  id,
  seriesId,
  alertId: null,
  verdict: 'incident',
  start: t0 - 3_600_000,
  end: t0,
  by: 'on-call',
  at,
  note: '',
  withdrawnAt: null,
});

beforeEach(() => ddbMock.reset());

describe('DynamoDbFeedbackStore requests', () => {
  it('puts a record in the FEEDBACK partition of the alert table, only if its id is new', async () => {
    ddbMock.on(PutCommand).resolves({});
    await store().putFeedback(feedback('fb-1'));
    expect(ddbMock.commandCalls(PutCommand)[0]?.args[0].input).toEqual({
      TableName: table,
      Item: { pk: 'FEEDBACK', sk: 'FEEDBACK#fb-1', record: feedback('fb-1') },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
  });

  it('lists with consistent queries of the partition, page after page, and filters one series', async () => {
    ddbMock
      .on(QueryCommand)
      .resolvesOnce({
        Items: [{ record: feedback('fb-2', 'series-b', t0 + 1) }],
        LastEvaluatedKey: { pk: 'FEEDBACK', sk: 'FEEDBACK#fb-2' },
      })
      .resolves({ Items: [{ record: feedback('fb-1') }] });
    expect((await store().listFeedback({ seriesId: 'series-b' })).map((record) => record.id)).toEqual([
      'fb-2',
    ]);
    expect(ddbMock.commandCalls(QueryCommand).map((call) => call.args[0].input)).toEqual([
      {
        TableName: table,
        KeyConditionExpression: 'pk = :feedback',
        ExpressionAttributeValues: { ':feedback': 'FEEDBACK' },
        ConsistentRead: true,
        ExclusiveStartKey: undefined,
      },
      {
        TableName: table,
        KeyConditionExpression: 'pk = :feedback',
        ExpressionAttributeValues: { ':feedback': 'FEEDBACK' },
        ConsistentRead: true,
        ExclusiveStartKey: { pk: 'FEEDBACK', sk: 'FEEDBACK#fb-2' },
      },
    ]);
  });

  it('withdraws by marking the record if it is not withdrawn yet, and reads it back when it was', async () => {
    const withdrawn = { ...feedback('fb-1'), withdrawnAt: t0 + 5 };
    ddbMock
      .on(UpdateCommand)
      .resolvesOnce({ Attributes: { pk: 'FEEDBACK', sk: 'FEEDBACK#fb-1', record: withdrawn } })
      .rejects(new ConditionalCheckFailedException({ message: 'withdrawn already', $metadata: {} }));
    ddbMock.on(GetCommand).resolves({ Item: { pk: 'FEEDBACK', sk: 'FEEDBACK#fb-1', record: withdrawn } });
    expect(await store().withdrawFeedback('fb-1', t0 + 5)).toEqual(withdrawn);
    expect(await store().withdrawFeedback('fb-1', t0 + 9)).toEqual(withdrawn);
    expect(ddbMock.commandCalls(UpdateCommand)[0]?.args[0].input).toEqual({
      TableName: table,
      Key: { pk: 'FEEDBACK', sk: 'FEEDBACK#fb-1' },
      UpdateExpression: 'SET #record.withdrawnAt = :at',
      ConditionExpression: 'attribute_exists(pk) AND attribute_type(#record.withdrawnAt, :null)',
      ExpressionAttributeNames: { '#record': 'record' },
      ExpressionAttributeValues: { ':at': t0 + 5, ':null': 'NULL' },
      ReturnValues: 'ALL_NEW',
    });
    expect(ddbMock.commandCalls(GetCommand)[0]?.args[0].input).toEqual({
      TableName: table,
      Key: { pk: 'FEEDBACK', sk: 'FEEDBACK#fb-1' },
      ConsistentRead: true,
    });
  });
});
