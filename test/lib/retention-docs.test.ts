import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { readSettings } from '../../cdk/settings.ts';

const root = join(import.meta.dirname, '..', '..');
const read = (file: string) => readFileSync(join(root, file), 'utf8');

describe('the memory store retention the docs give', () => {
  const fromCode = readSettings(new App().node).memoryRetentionHours;
  const fromCdkJson = (JSON.parse(read('cdk.json')) as { context: Record<string, unknown> }).context[
    'normalcy:memoryRetentionHours'
  ];

  it('is one default, in the code and in cdk.json', () => {
    expect(fromCdkJson).toBe(fromCode);
  });

  it('is the one docs/ingest.md and docs/configuration.md state', () => {
    const ingest = /`normalcy:memoryRetentionHours`,\s+(\d+) hours by default/.exec(read('docs/ingest.md'));
    expect(Number(ingest?.[1])).toBe(fromCode);
    const settings = /\| `normalcy:memoryRetentionHours` +\| `(\d+)` +\|/.exec(read('docs/configuration.md'));
    expect(Number(settings?.[1])).toBe(fromCode);
  });
});
