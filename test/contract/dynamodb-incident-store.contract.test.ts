import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbIncidentStore } from '../../lib/adapters/dynamodb-incident-store.ts';
import { dueTransitions, type IncidentMember, startIncident } from '../../lib/alerts/incidents.ts';
import { type LocalDynamoDb, startLocalDynamoDb } from '../helpers/dynalite.ts';
import { describeIncidentStoreContract } from './incident-store.contract.ts';

/**
 * The IncidentStore contract against a DynamoDB that evaluates the adapter's condition, update and key
 * expressions for real (dynalite, in memory), in the alert table shaped as the stack creates it.
 */
let dynamo: LocalDynamoDb;

beforeAll(async () => {
  dynamo = await startLocalDynamoDb();
});

afterAll(() => dynamo.close());

const t0 = Date.UTC(2025, 10, 25, 13, 20);
const member = (): IncidentMember => ({
  alertId: 'al_01',
  ruleId: 'default',
  seriesId: '0000000000000001',
  name: 'shop.requests',
  dimensions: { host: 'web-1' },
  severity: 'critical',
  startedAt: t0,
  openedAt: t0,
  deviation: 4,
  resolvedAt: null,
  joinedAt: t0,
  runAt: t0,
  reason: 'below its band for 5 min',
  link: 'http://dash/#/series/0000000000000001?alert=al_01',
});

describeIncidentStoreContract('DynamoDB (dynalite)', async () => ({
  store: new DynamoDbIncidentStore({ table: await dynamo.createAlertTable(), client: dynamo.client }),
  close: async () => {},
}));

describe('DynamoDbIncidentStore: a run that stops half-way through a change', () => {
  it('leaves the change in the board, and the next read writes it out: nothing recorded is lost', async () => {
    const table = await dynamo.createAlertTable();
    const store = new DynamoDbIncidentStore({ table, client: dynamo.client });
    let failTransitionWrites = true;
    const fault = 'fail-incident-transition-writes';
    dynamo.client.middlewareStack.add(
      (next, context) => async (args) => {
        const writesTransition =
          context.commandName === 'PutItemCommand' && JSON.stringify(args.input).includes('TRANSITION#');
        if (failTransitionWrites && writesTransition) throw new Error('the connection was reset');
        return next(args);
      },
      { step: 'initialize', name: fault },
    );
    try {
      const incident = startIncident(member(), t0);
      const due = dueTransitions(incident, { now: t0, link: 'http://dash/#/incidents/in_01' });
      await expect(
        store.commitBoard(0, { incidents: [due.incident], transitions: due.transitions }),
      ).rejects.toThrow('the connection was reset');
      expect(await store.pendingIncidentTransitions(10)).toEqual([]);

      failTransitionWrites = false;
      const board = await store.loadBoard();
      expect(board.incidents).toEqual([due.incident]);
      expect((await store.pendingIncidentTransitions(10)).map((t) => t.id)).toEqual(['in_01.open']);
      expect(await store.getIncident('in_01')).toEqual(due.incident);
      // And the board goes on from there.
      expect(await store.commitBoard(board.version, { incidents: [due.incident], transitions: [] })).toBe(
        'committed',
      );
    } finally {
      dynamo.client.middlewareStack.remove(fault);
    }
  });
});
