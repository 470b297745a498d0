import { describe, expect, it } from 'vitest';
import type { Feedback } from '../../lib/feedback/model.ts';
import type { FeedbackStore } from '../../lib/ports/feedback-store.ts';

const t0 = Date.UTC(2025, 10, 24, 14, 0);

const feedback = (id: string, overrides: Partial<Feedback> = {}): Feedback => ({
  id,
  seriesId: 'series-a',
  alertId: null,
  verdict: 'incident',
  start: t0,
  end: t0 + 3_600_000,
  by: 'on-call',
  at: t0 + 7_200_000,
  note: '',
  withdrawnAt: null,
  ...overrides,
});

/**
 * What every FeedbackStore adapter must do, whatever it stores in: run against each one so that local mode
 * behaves like the cloud.
 */
export function describeFeedbackStoreContract(name: string, open: () => Promise<FeedbackStore>) {
  describe(`FeedbackStore contract: ${name}`, () => {
    it('keeps a record as it was given, and finds it by id', async () => {
      const store = await open();
      const normal = feedback('fb-1', {
        alertId: 'alert-1',
        verdict: 'normal',
        note: 'the Thursday deploy',
      });
      await store.putFeedback(normal);
      expect(await store.getFeedback('fb-1')).toEqual(normal);
      expect(await store.getFeedback('fb-unknown')).toBeUndefined();
    });

    it('refuses a second record with an id already taken', async () => {
      const store = await open();
      await store.putFeedback(feedback('fb-1'));
      await expect(store.putFeedback(feedback('fb-1', { note: 'again' }))).rejects.toThrow();
      expect((await store.getFeedback('fb-1'))?.note).toBe('');
    });

    it("lists every record oldest first, or one series' only", async () => {
      const store = await open();
      await store.putFeedback(feedback('fb-c', { at: t0 + 3 }));
      await store.putFeedback(feedback('fb-a', { at: t0 + 1, seriesId: 'series-b' }));
      await store.putFeedback(feedback('fb-b', { at: t0 + 3 }));
      expect((await store.listFeedback()).map((record) => record.id)).toEqual(['fb-a', 'fb-b', 'fb-c']);
      expect((await store.listFeedback({ seriesId: 'series-a' })).map((record) => record.id)).toEqual([
        'fb-b',
        'fb-c',
      ]);
      expect(await store.listFeedback({ seriesId: 'series-c' })).toEqual([]);
    });

    it('withdraws a record once, keeps it marked, and knows no unknown one', async () => {
      const store = await open();
      await store.putFeedback(feedback('fb-1'));
      expect(await store.withdrawFeedback('fb-1', t0 + 10)).toEqual(
        feedback('fb-1', { withdrawnAt: t0 + 10 }),
      );
      // The first withdrawal stays.
      expect((await store.withdrawFeedback('fb-1', t0 + 20))?.withdrawnAt).toBe(t0 + 10);
      expect((await store.listFeedback()).map((record) => record.withdrawnAt)).toEqual([t0 + 10]);
      expect(await store.withdrawFeedback('fb-unknown', t0 + 10)).toBeUndefined();
      expect(await store.getFeedback('fb-unknown')).toBeUndefined();
    });
  });
}
