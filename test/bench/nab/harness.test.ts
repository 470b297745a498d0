import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listDataFiles, readDataFile, readLabels } from '../../../bench/nab/corpus.ts';
import { runEngine, scoreAllProfiles } from '../../../bench/nab/run.ts';
import { defaultEngine } from '../../../lib/bands/index.ts';
import { nabDataDir, nabLabelsFile } from './fixtures.ts';

/** Scores the default engine reached when these floors were set; a regression below them fails CI. */
const floors = { standard: 79.7, reward_low_FP_rate: 74.4, reward_low_FN_rate: 83.5 } as const;

describe('Harness: the default engine on the shipped NAB corpus', () => {
  it('stays above its recorded NAB floors in every profile', () => {
    const labels = readLabels(nabLabelsFile);
    const series = listDataFiles(nabDataDir).map((name) => {
      const file = readDataFile(nabDataDir, name);
      const run = runEngine(defaultEngine, file.timestamps, file.values);
      expect(run.scores.every((score) => score >= 0 && score <= 1)).toBe(true);
      return { name, timestamps: file.timestamps, scores: run.scores, windows: labels.get(name) ?? [] };
    });
    const scores = scoreAllProfiles(series, 57);
    expect(scores.standard.normalized).toBeGreaterThan(floors.standard);
    expect(scores.reward_low_FP_rate.normalized).toBeGreaterThan(floors.reward_low_FP_rate);
    expect(scores.reward_low_FN_rate.normalized).toBeGreaterThan(floors.reward_low_FN_rate);
  });
});

describe('Harness: npm run nab', () => {
  it('writes one NAB result row per data row and prints the three normalized scores last', () => {
    const out = mkdtempSync(join(tmpdir(), 'nab-'));
    const stdout = execFileSync(
      'npx',
      ['tsx', 'bench/nab/cli.ts', '--data', nabDataDir, '--labels', nabLabelsFile, '--out', out],
      { encoding: 'utf8' },
    );
    const lastLines = stdout.trim().split('\n').slice(-3);
    expect(lastLines.map((line) => line.split(' ')[0])).toEqual([
      'standard',
      'reward_low_FP_rate',
      'reward_low_FN_rate',
    ]);
    for (const line of lastLines) expect(Number(line.split(' ')[1])).toBeGreaterThan(0);

    const folders = readdirSync(join(out, 'normalcy'));
    expect(folders).toContain('realKnownCause');
    const result = readFileSync(join(out, 'normalcy', 'realKnownCause', 'normalcy_nyc_taxi.csv'), 'utf8')
      .trim()
      .split('\n');
    const data = readDataFile(nabDataDir, 'realKnownCause/nyc_taxi.csv');
    expect(result[0]).toBe('timestamp,value,anomaly_score,label,alert');
    expect(result).toHaveLength(data.timestamps.length + 1);
    const rows = result.slice(1).map((line) => line.split(','));
    expect(rows[0]?.[0]).toBe(data.timestampTexts[0]);
    const labelled = rows.filter((row) => row[3] === '1').length;
    expect(labelled).toBeGreaterThan(0);
    expect(labelled).toBeLessThan(rows.length / 5);
    for (const row of rows) {
      const score = Number(row[2]);
      expect(score >= 0 && score <= 1).toBe(true);
      expect(['0', '1']).toContain(row[4]);
    }
  });

  it('scores existing results with --score-only', () => {
    const stdout = execFileSync(
      'npx',
      [
        'tsx',
        'bench/nab/cli.ts',
        '--score-only',
        join(nabDataDir, '..', 'reference'),
        '--detector',
        'numenta',
        '--data',
        nabDataDir,
      ],
      { encoding: 'utf8' },
    );
    expect(stdout.trim().split('\n').slice(-3)).toEqual([
      'standard 71.21',
      'reward_low_FP_rate 64.99',
      'reward_low_FN_rate 75.87',
    ]);
  });

  it('fails clearly when the data folder does not exist', () => {
    expect(() =>
      execFileSync('npx', ['tsx', 'bench/nab/cli.ts', '--data', '/nonexistent/nab/data'], {
        encoding: 'utf8',
        stdio: 'pipe',
      }),
    ).toThrow(/--data: \/nonexistent\/nab\/data does not exist/);
  });
});
