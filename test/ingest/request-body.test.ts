import { createGzip, deflateSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestLimits } from '../../lib/metrics/limits.ts';

import { bodyOf, type IngestLambda, ingestLambda } from './lambda.ts';

const metricsBody = (name: string) => JSON.stringify({ metrics: [{ name, value: 1 }] });

/** A gzip stream of `size` zero bytes, compressed in chunks so the test itself never holds `size` bytes. */
async function gzipOfZeros(size: number): Promise<Buffer> {
  const gzip = createGzip({ level: 9 });
  const chunks: Buffer[] = [];
  gzip.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise((resolve) => gzip.on('end', resolve));
  const block = Buffer.alloc(1024 * 1024);
  for (let written = 0; written < size; written += block.length) {
    if (!gzip.write(block)) await new Promise((resolve) => gzip.once('drain', resolve));
  }
  gzip.end();
  await done;
  return Buffer.concat(chunks);
}

describe('Function: ingest, request bodies', () => {
  let lambda: IngestLambda;
  beforeAll(async () => {
    lambda = await ingestLambda();
  });
  afterAll(() => lambda.close());

  const post = (body: string, headers: Record<string, string> = {}, isBase64Encoded = false) =>
    lambda.invoke({ body, isBase64Encoded, headers: { 'content-type': 'application/json', ...headers } });

  it('reads a base64 body as API Gateway passes binary content', async () => {
    const result = await post(Buffer.from(metricsBody('b64')).toString('base64'), {}, true);
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toMatchObject({ accepted: 1 });
  });

  it('inflates gzip and deflate bodies, base64-encoded or not', async () => {
    const gzipped = gzipSync(metricsBody('gz')).toString('base64');
    expect((await post(gzipped, { 'content-encoding': 'gzip' }, true)).statusCode).toBe(200);
    const deflated = deflateSync(metricsBody('deflated')).toString('base64');
    expect((await post(deflated, { 'Content-Encoding': 'deflate' }, true)).statusCode).toBe(200);
    const names = (await lambda.stores.series.listSeries()).map((series) => series.name);
    expect(names).toEqual(expect.arrayContaining(['gz', 'deflated', 'b64']));
  });

  it('answers 400 to a corrupt gzip body and 415 to an unknown encoding', async () => {
    const corrupt = await post(
      Buffer.from('not gzip at all').toString('base64'),
      { 'content-encoding': 'gzip' },
      true,
    );
    expect(corrupt.statusCode).toBe(400);
    expect(bodyOf<{ error: { message: string } }>(corrupt).error.message).toMatch(
      /could not be decompressed as gzip/,
    );
    const brotli = await post(metricsBody('br'), { 'content-encoding': 'br' });
    expect(brotli.statusCode).toBe(415);
    expect(bodyOf<{ error: { message: string } }>(brotli).error.message).toMatch(/"br" is not supported/);
  });

  it('accepts a body of exactly the limit after inflation and answers 413 one byte beyond', async () => {
    const sized = (size: number) => {
      const start = '{"metrics":[{"name":"edge","value":1,"dimensions":{"pad":"';
      const end = '"}}]}';
      return `${start}${'y'.repeat(size - start.length - end.length)}${end}`;
    };
    // The dimension is too long to store, so the body at the limit is read and then refused item by item.
    const atLimit = await post(
      gzipSync(sized(ingestLimits.maxBodyBytes)).toString('base64'),
      { 'content-encoding': 'gzip' },
      true,
    );
    expect(atLimit.statusCode).toBe(400);
    expect(bodyOf<{ error: { problems: { field: string }[] } }>(atLimit).error.problems[0]?.field).toBe(
      'dimensions.pad',
    );
    const beyond = await post(
      gzipSync(sized(ingestLimits.maxBodyBytes + 1)).toString('base64'),
      { 'content-encoding': 'gzip' },
      true,
    );
    expect(beyond.statusCode).toBe(413);
    const plainBeyond = await post(sized(ingestLimits.maxBodyBytes + 1));
    expect(plainBeyond.statusCode).toBe(413);
  });

  it('stops a 1 GB gzip bomb at the limit without inflating it into memory', async () => {
    const bomb = await gzipOfZeros(1024 * 1024 * 1024);
    expect(bomb.length).toBeLessThan(2 * 1024 * 1024);
    const before = process.memoryUsage().rss;
    const result = await post(bomb.toString('base64'), { 'content-encoding': 'gzip' }, true);
    const grown = process.memoryUsage().rss - before;
    expect(result.statusCode).toBe(413);
    expect(bodyOf<{ error: { code: string } }>(result).error.code).toBe('payload_too_large');
    expect(grown).toBeLessThan(256 * 1024 * 1024);
  });
});
