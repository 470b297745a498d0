import { describe, expect, it } from 'vitest';
import { ConsoleNotifier, FanOutNotifier } from '../../lib/adapters/console-notifier.ts';
import type { Notification, Notifier } from '../../lib/ports/notifier.ts';

const notification: Notification = {
  transitionId: 'al_00000000000000000001.open',
  alertId: 'al_00000000000000000001',
  state: 'OPEN',
  severity: 'critical',
  rule: { id: 'default', name: 'Default band rule', kind: 'band' },
  seriesId: '0123456789abcdef',
  name: 'shop.requests',
  dimensions: { host: 'web-1' },
  startedAt: Date.UTC(2025, 10, 25, 14),
  at: Date.UTC(2025, 10, 25, 14),
  value: 0,
  expected: 100.04,
  lower: 80,
  upper: 120,
  score: 0.99,
  threshold: null,
  reason: 'below its band for 5 min',
  link: 'http://127.0.0.1:8080/#/series/0123456789abcdef?alert=al_00000000000000000001',
};

describe('Local notifiers', () => {
  it('the console gets one readable line per notification, with the dashboard link', async () => {
    const lines: string[] = [];
    await new ConsoleNotifier((line) => lines.push(line)).notify(notification);
    expect(lines).toEqual([
      '[Normalcy] OPEN critical shop.requests{host=web-1}: 0 (expected 100) at 2025-11-25T14:00:00.000Z, ' +
        'band 80..120, below its band for 5 min, rule default -> ' +
        'http://127.0.0.1:8080/#/series/0123456789abcdef?alert=al_00000000000000000001',
    ]);
  });

  it('an escalation reads as critical on the console', async () => {
    const lines: string[] = [];
    await new ConsoleNotifier((line) => lines.push(line)).notify({
      ...notification,
      state: 'ESCALATED',
      transitionId: 'al_00000000000000000001.escalated',
      at: Date.UTC(2025, 10, 25, 14, 30),
      reason: 'below its band for 30 min',
    });
    expect(lines).toEqual([
      '[Normalcy] CRITICAL shop.requests{host=web-1}: 0 (expected 100) at 2025-11-25T14:30:00.000Z, ' +
        'band 80..120, below its band for 30 min, rule default -> ' +
        'http://127.0.0.1:8080/#/series/0123456789abcdef?alert=al_00000000000000000001',
    ]);
  });

  it('fanning out stops at the first failure, so the whole notification is retried later', async () => {
    const lines: string[] = [];
    const failing: Notifier = {
      notify: async () => {
        throw new Error('webhook down');
      },
    };
    const fanOut = new FanOutNotifier([failing, new ConsoleNotifier((line) => lines.push(line))]);
    await expect(fanOut.notify(notification)).rejects.toThrow('webhook down');
    expect(lines).toEqual([]);
  });

  it('fanning out re-sends what is open to the notifiers that mirror state, and only when one does', async () => {
    const console = new ConsoleNotifier(() => {});
    expect(new FanOutNotifier([console]).notifyStillOpen).toBeUndefined();
    const received: number[] = [];
    const mirror: Notifier = {
      notify: async () => {},
      notifyStillOpen: async (stillOpen) => {
        received.push(stillOpen.at);
      },
    };
    await new FanOutNotifier([console, mirror]).notifyStillOpen?.({ at: 42, alerts: [] });
    expect(received).toEqual([42]);
  });
});
