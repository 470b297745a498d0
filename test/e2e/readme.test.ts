import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  eventually,
  freeTcpPort,
  freeUdpPort,
  type RunningProcess,
  startProcess,
} from '../helpers/processes.ts';

const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');

/** The fenced code blocks of the README in a language, in order. */
const blocks = (language: string): string[] =>
  [...readme.matchAll(new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``, 'g'))].map(
    (match) => match[1] ?? '',
  );

/** The README's commands, run as written (only the port and data dir moved to a sandbox). */
describe('README quickstart', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'normalcy-readme-'));
  let server: RunningProcess;
  let agent: RunningProcess;
  let port: number;
  let statsdPort: number;
  const sandbox = (text: string) =>
    text.replaceAll('127.0.0.1:8080', `127.0.0.1:${port}`).replaceAll('.normalcy/', `${dataDir}/`);

  beforeAll(async () => {
    port = await freeTcpPort();
    statsdPort = await freeUdpPort();
    expect(blocks('sh')[0]).toBe('npm install && npm start\n');
    server = startProcess('npm', ['start'], { PORT: String(port), NORMALCY_DATA_DIR: dataDir });
    await server.waitFor('Normalcy is running');
  });

  afterAll(async () => {
    await agent?.stop();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('the curl example stores a metric and lists its series', () => {
    const script = sandbox(blocks('sh')[1] ?? '');
    expect(script).toContain('curl');
    const output = execFileSync('bash', ['-euo', 'pipefail', '-c', script], { encoding: 'utf8' });
    expect(output).toContain('{"accepted":1,"rejected":0,"problems":[]}');
    expect(output).toContain('"name":"shop.login.time"');
  });

  it('the Python example reaches Normalcy through npm run agent', async () => {
    expect(blocks('sh')).toContain('npm run agent\n');
    agent = startProcess('npm', ['run', 'agent'], {
      NORMALCY_DATA_DIR: dataDir,
      NORMALCY_URL: `http://127.0.0.1:${port}`,
      STATSD_PORT: String(statsdPort),
      STATSD_MGMT_PORT: String(await freeTcpPort()),
      FLUSH_INTERVAL_MS: '1000',
    });
    await agent.waitFor('server is up');
    const python = (blocks('python')[0] ?? '').replace(
      "StatsClient('127.0.0.1', 8125)",
      `StatsClient('127.0.0.1', ${statsdPort})`,
    );
    expect(python).toContain(String(statsdPort));
    execFileSync('/usr/bin/python3', ['-c', python]);
    const key = readFileSync(join(dataDir, 'api-key'), 'utf8').trim();
    await eventually(async () => {
      const response = await fetch(`http://127.0.0.1:${port}/v1/series`, { headers: { 'x-api-key': key } });
      const { series } = (await response.json()) as { series: { name: string }[] };
      const names = series.map((s) => s.name);
      return ['shop.logins', 'shop.login.time.p90', 'shop.memory.share'].every((n) => names.includes(n))
        ? true
        : undefined;
    });
  });
});
