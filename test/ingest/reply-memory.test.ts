import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/local.ts';

/** Peak resident memory of this process so far, in MB (the server runs in it). */
const peakRssMb = () => process.resourceUsage().maxRSS / 1024;

/**
 * Own file, so its own process: the peak it measures is this test's. Four 5 MB bodies of millions of bad
 * items at once (what a fuzzing run sent) once took the server to 2.4 GB; the problems past the first 100
 * are now counted, not kept.
 */
describe('memory of the local server under bodies of millions of bad items', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it('grows by less than 600 MB for four 5 MB bodies at once, native JSON and line protocol', async () => {
    const items = 2_600_000;
    const native = `{"metrics":[${new Array(items).fill('1').join(',')}]}`;
    const lines = 'x\n'.repeat(items);
    const before = peakRssMb();
    const send = (path: string, body: string, type: string) =>
      server
        .request(path, { method: 'POST', headers: { 'content-type': type }, body })
        .then(async (response) => ({
          status: response.status,
          bytes: (await response.arrayBuffer()).byteLength,
        }));
    const replies = await Promise.all([
      send('/v1/metrics', native, 'application/json'),
      send('/v1/metrics', native, 'application/json'),
      send('/v1/influx/write', lines, 'text/plain'),
      send('/api/v2/write', lines, 'text/plain'),
    ]);
    const growth = peakRssMb() - before;
    console.log(`peak RSS grew by ${growth.toFixed(0)} MB for four 5 MB bodies of bad items`);
    for (const reply of replies) {
      expect(reply.status).toBe(400);
      expect(reply.bytes).toBeLessThan(64 * 1024);
    }
    expect(growth).toBeLessThan(600);
  });
});
