import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  listDataFiles,
  readDataFile,
  readLabels,
  readResultScores,
  resultPath,
} from '../../../bench/nab/corpus.ts';
import { nabProfileNames, nabProfiles } from '../../../bench/nab/profiles.ts';
import { probationLength, scaledSigmoid, scoreCorpus, sweepFile } from '../../../bench/nab/scorer.ts';
import { nabDataDir, nabLabelsFile, nabReferenceDir } from './fixtures.ts';

describe('Function: scaledSigmoid', () => {
  it('is 0 at the window edge, about 0.987 one window width inside and −1 far past it', () => {
    expect(scaledSigmoid(0)).toBe(0);
    expect(scaledSigmoid(-1)).toBeCloseTo(0.98661, 5);
    expect(scaledSigmoid(1)).toBeCloseTo(-0.98661, 5);
    expect(scaledSigmoid(3.01)).toBe(-1);
  });
});

describe('Function: probationLength', () => {
  it('is 15% of the rows, at most 750', () => {
    expect(probationLength(100)).toBe(15);
    expect(probationLength(4032)).toBe(604);
    expect(probationLength(15902)).toBe(750);
  });
});

describe('Function: sweepFile', () => {
  it('weighs rows before, inside and after a window as the official sweeper does', () => {
    const swept = sweepFile(
      {
        name: 'f',
        timestamps: [0, 1, 2, 3, 4, 5, 6, 7],
        scores: [0, 0, 0, 0, 0, 0, 0, 1],
        windows: [[4, 5]],
      },
      nabProfiles.standard,
    );
    expect(swept.scores).toHaveLength(7);
    expect([...swept.weights.slice(0, 3)]).toEqual([-0.11, -0.11, -0.11]);
    expect(swept.weights[3]).toBeCloseTo(1, 10);
    expect(swept.weights[4]).toBeCloseTo(0.8596, 3);
    expect(swept.weights[5]).toBeCloseTo(-0.11 * 0.98661, 4);
    expect([...swept.windowOf]).toEqual([-1, -1, -1, 0, 0, -1, -1]);
  });

  it('scores a window through its rows after probation only', () => {
    const corpus = [
      { name: 'f', timestamps: [...Array(20).keys()], scores: Array(20).fill(0), windows: [[1, 2] as const] },
    ];
    const score = scoreCorpus(corpus, nabProfiles.standard, 1);
    // The window lies wholly in the 3-row probation: nothing counts, so the null score is 0 and perfect is 1.
    expect(score.raw).toBe(0);
    expect(score.normalized).toBe(0);
    expect(score.falseNegatives).toBe(0);
  });
});

describe('Function: scoreCorpus on the reference detectors', () => {
  const labels = readLabels(nabLabelsFile);
  const data = listDataFiles(nabDataDir).map((name) => readDataFile(nabDataDir, name));
  const expected = JSON.parse(readFileSync(`${nabReferenceDir}/scores.json`, 'utf8')) as Record<
    string,
    Record<string, { normalized: number; raw: number; threshold: number }>
  >;
  const windowCount = [...labels.values()].reduce((sum, windows) => sum + windows.length, 0);

  it('reads the 31 shipped series and their 57 windows', () => {
    expect(data).toHaveLength(31);
    expect(windowCount).toBe(57);
  });

  for (const detector of ['numenta', 'randomCutForest', 'twitterADVec', 'windowedGaussian']) {
    it(`matches the official scores of ${detector} in every profile to 0.01`, () => {
      const files = data.map((file) => ({
        name: file.name,
        timestamps: file.timestamps,
        scores: readResultScores(resultPath(nabReferenceDir, detector, file.name)),
        windows: labels.get(file.name) ?? [],
      }));
      for (const profile of nabProfileNames) {
        const official = expected[detector]?.[profile];
        expect(official, `${detector}/${profile} in scores.json`).toBeDefined();
        const score = scoreCorpus(files, nabProfiles[profile], windowCount);
        expect(Math.abs(score.normalized - (official?.normalized ?? Number.NaN))).toBeLessThan(0.01);
        expect(Math.abs(score.raw - (official?.raw ?? Number.NaN))).toBeLessThan(0.01);
        expect(Math.abs(score.threshold - (official?.threshold ?? Number.NaN))).toBeLessThan(0.01);
      }
    });
  }
});
