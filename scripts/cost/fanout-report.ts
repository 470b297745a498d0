/** The section `npm run cost` prints for the band job fanned out (see scripts/cost/fanout.ts). */
import { existsSync, readFileSync } from 'node:fs';
import { type FanoutBench, fanoutEstimate } from './fanout.ts';
import { money, quantity } from './format.ts';
import type { Deployment, Estimate, Measured, PointsStore } from './model.ts';

export function fanoutLines(
  deployment: Deployment,
  estimates: readonly { store: PointsStore; measured: Measured; result: Estimate }[],
  benchFile: string,
): string[] {
  if (!existsSync(benchFile))
    return ['', `(No ${benchFile}: run \`npm run bench:fanout -- --record\` for the fanned-out band job.)`];
  const bench = JSON.parse(readFileSync(benchFile, 'utf8')) as FanoutBench;
  // The DynamoDB store's workers as measured against it (`--store dynamodb`), when that run is beside this one.
  const dynamoFile = benchFile.replace(/fanout\.json$/, 'fanout-dynamodb.json');
  const dynamoBench =
    dynamoFile !== benchFile && existsSync(dynamoFile)
      ? (JSON.parse(readFileSync(dynamoFile, 'utf8')) as FanoutBench)
      : undefined;
  const benchOf = (store: PointsStore) =>
    store === 'dynamodb' && dynamoBench
      ? { bench: dynamoBench, file: dynamoFile }
      : { bench, file: benchFile };
  const lines = [
    '',
    `## Band job fanned out (normalcy:bandJobMode=fanout), ${deployment.stateShards} shards`,
    '',
    `From ${benchFile.replace(`${process.cwd()}/`, '')} (${bench.seriesCount.toLocaleString('en-US')} series, ` +
      `${bench.shards} shards, ${bench.shardsPerWorker} a worker). These items replace the single function's ` +
      '"Lambda requests (band job)" and "Lambda GB-s (band job)".',
  ];
  for (const { store, measured, result } of estimates) {
    const fanout = fanoutEstimate(store, deployment, measured, result, benchOf(store).bench);
    lines.push(
      '',
      `### ${store}`,
      '',
      `Workers' time from ${benchOf(store).file.replace(`${process.cwd()}/`, '')}.`,
      '',
      '| item | quantity a month | unit | per month | where the number comes from |',
      '| --- | ---: | --- | ---: | --- |',
      ...fanout.items.map(
        (item) =>
          `| ${item.item} | ${quantity(item.quantity)} | ${item.unit} | ${money(item.monthly)} | ${item.source} |`,
      ),
      `| **fan-out total** | | | **${money(fanout.monthly)}** | ${money(fanout.perRun)} per run; the single function's band job: ${money(fanout.replaced)} a month |`,
      '',
      `Per series-month, all in, fanned out: **${money(fanout.perSeriesMonth)}** (single function: ${money(result.perSeriesMonth.running)}).`,
    );
  }
  return lines;
}
