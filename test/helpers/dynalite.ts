import type { AddressInfo } from 'node:net';
import {
  type AttributeDefinition,
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  type ScalarAttributeType,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import {
  alertsByStateIndex,
  anomalyIndex,
  catalogIndex,
  pendingIndex,
  pendingTransitionsIndex,
} from '../../lib/adapters/schema.ts';

/** A key of a table or index: attribute name and type. */
type Key = readonly [name: string, type: ScalarAttributeType];

interface TableShape {
  readonly partition: Key;
  readonly sort: Key;
  readonly indexes: readonly { readonly name: string; readonly partition: Key; readonly sort?: Key }[];
}

/** The tables as the stack creates them (cdk/stack.ts), keys and indexes only. */
const shapes = {
  state: {
    partition: ['pk', 'S'],
    sort: ['sk', 'S'],
    indexes: [
      { name: pendingIndex, partition: ['pendingShard', 'S'] },
      { name: catalogIndex, partition: ['catalogShard', 'S'], sort: ['catalogKey', 'S'] },
    ],
  },
  data: {
    partition: ['pk', 'S'],
    sort: ['sk', 'N'],
    indexes: [{ name: anomalyIndex, partition: ['anomalyDay', 'S'], sort: ['sk', 'N'] }],
  },
  alert: {
    partition: ['pk', 'S'],
    sort: ['sk', 'S'],
    indexes: [
      { name: pendingTransitionsIndex, partition: ['pendingShard', 'S'], sort: ['deliverOrder', 'S'] },
      { name: alertsByStateIndex, partition: ['alertState', 'S'], sort: ['startedAt', 'N'] },
    ],
  },
} as const satisfies Record<string, TableShape>;

export interface LocalDynamoDb {
  readonly client: DynamoDBClient;
  /** Creates the state table (catalog, progress, key hashes) under a fresh name and returns the name. */
  createStateTable(): Promise<string>;
  /** Creates the points-and-bands table (the stack's store=dynamodb) and returns the name. */
  createDataTable(): Promise<string>;
  /** Creates the alert table (rules, alerts, transitions) and returns the name. */
  createAlertTable(): Promise<string>;
  close(): Promise<void>;
}

let tableCount = 0;

/** dynalite: a DynamoDB-compatible engine in memory, on a free port, reached with the real SDK client. */
export async function startLocalDynamoDb(): Promise<LocalDynamoDb> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  const client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    // dynalite checks that requests are signed, not by whom.
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const create = async (kind: keyof typeof shapes): Promise<string> => {
    const shape: TableShape = shapes[kind];
    const name = `${kind}-${++tableCount}`;
    const keys = [
      shape.partition,
      shape.sort,
      ...shape.indexes.flatMap((index) => [index.partition, index.sort]),
    ];
    const definitions = new Map<string, AttributeDefinition>();
    for (const key of keys) {
      if (key) definitions.set(key[0], { AttributeName: key[0], AttributeType: key[1] });
    }
    const schema = (partition: Key, sort?: Key) => [
      { AttributeName: partition[0], KeyType: 'HASH' as const },
      ...(sort ? [{ AttributeName: sort[0], KeyType: 'RANGE' as const }] : []),
    ];
    await client.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [...definitions.values()],
        KeySchema: schema(shape.partition, shape.sort),
        GlobalSecondaryIndexes: shape.indexes.map((index) => ({
          IndexName: index.name,
          KeySchema: schema(index.partition, index.sort),
          Projection: { ProjectionType: 'ALL' },
        })),
      }),
    );
    // dynalite answers CreateTable with the table CREATING and makes it ACTIVE on a timer, even at 0 ms: a
    // request that reaches it first is refused with ResourceNotFoundException (a busy machine made it happen).
    for (let attempt = 0; ; attempt++) {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
      if (Table?.TableStatus === 'ACTIVE') break;
      if (attempt >= 500)
        throw new Error(`dynalite: table ${name} still ${Table?.TableStatus} after 500 looks`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    return name;
  };
  return {
    client,
    createStateTable: () => create('state'),
    createDataTable: () => create('data'),
    createAlertTable: () => create('alert'),
    async close() {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
