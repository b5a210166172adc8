import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FerryAgent } from './helpers/ferry-agent.js';
import { FerryServer, ROOT, eventually } from './helpers/ferry-server.js';

/** Every line of a log: JSON objects with a level word, an ISO time and the service. */
function parseLog(log: string): Record<string, unknown>[] {
  return log
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('structured logs', () => {
  const server = new FerryServer(['--gpus', 'none', '--no-agent'], { FERRY_LOG_LEVEL: 'debug' });
  let agent: FerryAgent;

  beforeAll(async () => {
    await server.start();
    const { token } = await server.client.createNodeToken('logger');
    agent = await new FerryAgent(() => [server.url], token, 'none').start();
  });
  afterAll(async () => {
    await agent.dispose();
    await server.dispose();
  });

  it('ties each request to its id: the caller’s X-Request-Id (or a new one) comes back and is on its log line', async () => {
    const traced = await fetch(`${server.url}/v1/tasks/task_missing`, { headers: { authorization: `Bearer ${server.adminKey}`, 'x-request-id': 'trace-42' } });
    expect(traced.status).toBe(404);
    expect(traced.headers.get('x-request-id')).toBe('trace-42');
    const fresh = await fetch(`${server.url}/healthz`, { headers: { 'x-request-id': 'not a valid id!' } });
    const freshId = fresh.headers.get('x-request-id');
    expect(freshId).toMatch(/^[0-9a-f-]{36}$/);

    const lines = await eventually(async () => {
      const l = parseLog(server.log);
      return l.some((e) => e.reqId === freshId) ? l : undefined;
    }, 5000, 'the request lines');
    for (const line of lines) {
      expect(line).toMatchObject({ level: expect.stringMatching(/^(debug|info|warn|error)$/), service: 'server', msg: expect.any(String) });
      expect(new Date(line.time as string).toISOString()).toBe(line.time);
    }
    expect(lines.find((e) => e.reqId === 'trace-42')).toMatchObject({ level: 'debug', msg: 'request', route: '/v1/tasks/:taskId', statusCode: 404, method: 'GET' });
  });

  it('the agent logs as JSON too: a control plane that stops answering is a warning naming it', async () => {
    await server.stop();
    const warning = await eventually(async () => parseLog(agent.log).find((e) => e.level === 'warn'), 10_000, 'a warning from the agent');
    expect(warning).toMatchObject({ service: 'agent', server: server.url, msg: expect.stringContaining('no answer from') });
    await server.start();
  });

  it('refuses an unknown FERRY_LOG_LEVEL by name', async () => {
    const run = await new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile(process.execPath, [`${ROOT}/bin/ferry.js`, 'server', '--port', '0'], { env: { ...process.env, FERRY_LOG_LEVEL: 'chatty' } }, (err, _out, stderr) =>
        resolve({ code: typeof err?.code === 'number' ? err.code : 0, stderr }),
      ),
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('FERRY_LOG_LEVEL');
  });
});
