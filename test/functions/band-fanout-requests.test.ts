import { describe, expect, it } from 'vitest';
import { parseDeliveryRequest } from '../../functions/band-delivery.ts';
import { BandWorkerRequestError, parseWorkerRequest } from '../../functions/band-worker.ts';

/**
 * What the state machine hands the band worker and the last step, checked before any work: a request that is
 * not one says which field is wrong, and a worker's refusal is an error the state machine does not retry
 * (BandWorkerRequestError, see cdk/band-fanout.ts).
 */
describe('Function: band-worker and band-delivery requests', () => {
  it('takes a run id and its batch of shards', () => {
    expect(parseWorkerRequest({ runId: 'run-1', shards: ['256-000', '256-001'] })).toEqual({
      runId: 'run-1',
      shards: ['256-000', '256-001'],
    });
  });

  it('refuses a worker request that is not one, saying where, with an error the state machine does not retry', () => {
    expect(() => parseWorkerRequest({ runId: '', shards: [] })).toThrow(
      'band worker request refused: runId: Too small: expected string to have >=1 characters; shards: Too small: expected array to have >=1 items',
    );
    expect(() => parseWorkerRequest({ runId: 'run-1', shards: ['256-000', 3] })).toThrow(
      'band worker request refused: shards.1: Invalid input: expected string, received number',
    );
    expect(() => parseWorkerRequest(null)).toThrow(BandWorkerRequestError);
  });

  it('refuses a last-step request whose batch is neither a report nor a failure', () => {
    expect(() => parseDeliveryRequest({ runId: 'run-1', batches: [{ shards: ['256-000'] }] })).toThrow(
      'band delivery request refused: batches.0: Invalid input',
    );
    expect(
      parseDeliveryRequest({ runId: 'run-1', batches: [{ shards: ['256-000'], error: 'Error' }] }),
    ).toEqual({
      runId: 'run-1',
      batches: [{ shards: ['256-000'], error: 'Error' }],
    });
  });
});
