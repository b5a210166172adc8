import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, launchChromium } from './helpers/chromium.js';
import { secretKey, signWebhook } from '../src/core/webhook-signature.js';
import { FerryServer, ROOT, eventually } from './helpers/ferry-server.js';

const ARTIFACTS = join(ROOT, 'test-artifacts', 'dashboard');

// A job that prints one log line and reports progress every `ms`, then writes its output (and,
// with png, a 2x2 PNG into its output directory).
const STEPS = `
const fs = require('fs');
const { lines = 4, ms = 400, png } = JSON.parse(fs.readFileSync(0, 'utf8') || '{}');
if (png) fs.writeFileSync(process.env.FERRY_OUTPUT_DIR + '/dot.png', Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEElEQVR4nGP4z8AARAwQCgAf7gP9i18U1AAAAABJRU5ErkJggg==', 'base64'));
const progress = process.env.FERRY_PROGRESS_FILE;
let i = 0;
(function step() {
  if (i === lines) {
    fs.writeFileSync(process.env.FERRY_OUTPUT_FILE, JSON.stringify({ steps: lines }));
    process.exit(0);
  }
  i++;
  console.log('step ' + i + ' of ' + lines);
  fs.writeFileSync(progress + '.tmp', JSON.stringify({ progress: Math.round((100 * i) / lines), message: 'step ' + i, partialOutput: { done: i } }));
  fs.renameSync(progress + '.tmp', progress);
  setTimeout(step, ms);
})();
`;

describe.skipIf(!chromiumAvailable())('the dashboard in a headless browser', () => {
  const server = new FerryServer(['--gpus', '2xH200:143771']);
  let browser: Browser;
  let page: Page;
  let functionId: string;
  let versionId: string;

  const shot = (name: string): Promise<Buffer> => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  // Moves within the signed-in app, as a link would (same document: the key stays in memory).
  const go = (hash: string): Promise<unknown> => page.goto(`${server.url}/${hash}`);

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await server.start();
    const fn = await server.client.createFunction({
      name: 'steps',
      description: 'prints a line and reports progress at each step',
      tags: ['test'],
      version: { mode: 'job', runtime: { type: 'process' }, job: { command: [process.execPath, '-e', STEPS] }, resources: { gpus: 1, gpuType: 'H200' }, stopGraceSeconds: 1 },
    });
    functionId = fn.id;
    versionId = fn.version.id;
    await server.client.deploy(functionId, versionId, { minInstances: 1, maxInstances: 2, targetPerInstance: 1, scaleDownDelaySeconds: 1 });
    await eventually(async () => ((await server.client.getDeployment(functionId, versionId)).state === 'ACTIVE' ? true : undefined), 20_000, 'ACTIVE');
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  });
  afterAll(async () => {
    await browser?.close();
    await server.dispose();
  });

  it('refuses a wrong key with a clear message, then signs in with the pasted admin key', async () => {
    await page.goto(server.url);
    await page.getByLabel('API key').fill('fry_not-a-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').getByText('The server refused this API key (401)').waitFor();
    await shot('sign-in');
    await page.getByLabel('API key').fill(server.adminKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const card = page.locator('[data-function="steps"]');
    await card.getByText('ACTIVE').waitFor();
    await expect(card.locator('tbody tr').first().textContent()).resolves.toMatch(/v1.*job.*process.*1× H200/);
    await shot('functions');
  });

  it('follows a task live: log lines appear while it runs, then it succeeds', async () => {
    // Two at once: the deployment scales out to two instances, a decision the timeline marks.
    const task = await server.client.submit({ functionId, input: { lines: 5, ms: 500 } });
    await server.client.submit({ functionId, input: { lines: 2, ms: 300 } });
    const streams: string[] = [];
    const onRequest = (r: { url(): string }): void => void streams.push(new URL(r.url()).pathname + new URL(r.url()).search);
    page.on('request', onRequest);
    await go(`#/tasks/${task.id}`);
    const logs = page.locator('pre.logs');
    await logs.getByText('step 2 of 5').waitFor({ timeout: 10_000 });
    // The page shows lines of a task the server still reports running.
    expect((await server.client.getTask(task.id)).status).toBe('RUNNING');
    await expect(page.locator('.page-header .badge').textContent()).resolves.toBe('RUNNING');
    await shot('task-running');
    await page.locator('.page-header .badge', { hasText: 'SUCCEEDED' }).waitFor({ timeout: 10_000 });
    await logs.getByText('step 5 of 5').waitFor();
    await expect(page.getByRole('progressbar').first().getAttribute('aria-valuenow')).resolves.toBe('100');
    await expect(page.locator('.json-block', { hasText: 'Output' }).textContent()).resolves.toContain('"steps": 5');
    await page.locator('dl.facts').getByText(`1 of ${(await server.client.getTask(task.id)).maxAttempts}`).waitFor();
    await shot('task');
    // Followed through the API's event streams, not by polling.
    page.off('request', onRequest);
    expect(streams).toEqual(expect.arrayContaining([`/v1/tasks/${task.id}/events`, `/v1/tasks/${task.id}/logs?follow=true&after=0`]));
    expect(streams.filter((p) => p.startsWith(`/v1/tasks/${task.id}/logs?after`))).toEqual([]);
  });

  it('watches a task wait in the queue, then run and succeed', async () => {
    // Both instances busy (at most two, one task each): the next task waits its turn.
    const blockers = await Promise.all([1, 2].map(() => server.client.submit({ functionId, input: { lines: 100, ms: 100 } })));
    const task = await server.client.submit({ functionId, input: { lines: 2, ms: 200 } });
    await go(`#/tasks/${task.id}`);
    await page.locator('.page-header .badge', { hasText: 'QUEUED' }).waitFor({ timeout: 10_000 });
    await page.locator('.position', { hasText: 'in the queue' }).waitFor();
    await shot('task-queued');
    for (const b of blockers) await server.client.cancelTask(b.id);
    await page.locator('.page-header .badge', { hasText: 'SUCCEEDED' }).waitFor({ timeout: 15_000 });
    await page.locator('pre.logs').getByText('step 2 of 2').waitFor();
    await expect(page.locator('.position').count()).resolves.toBe(0);
  });

  it('lists tasks with filters and opens one by its id', async () => {
    await go('#/tasks');
    const rows = page.locator('table.tasks tbody tr');
    await eventually(async () => ((await rows.count()) >= 2 ? true : undefined), 10_000, 'two task rows');
    await page.getByLabel('Status').selectOption('SUCCEEDED');
    await page.locator('table.tasks tbody tr', { hasText: 'SUCCEEDED' }).first().waitFor();
    await shot('tasks');
    const id = (await page.locator('table.tasks tbody tr').first().getAttribute('data-task'))!;
    await page.getByLabel('Task id').fill(id);
    await page.getByRole('button', { name: 'Open' }).click();
    await page.locator('.crumbs', { hasText: id }).waitFor();
  });

  it('lists the files a task left, with download links and a preview of an image', async () => {
    const task = await server.client.submit({ functionId, input: { lines: 1, ms: 10, png: true } });
    await server.client.wait(task.id, { timeoutMs: 20_000 });
    await go(`#/tasks/${task.id}`);
    const link = page.locator('.output-assets a', { hasText: 'dot.png' });
    await link.waitFor();
    const preview = page.locator('.output-assets img.preview');
    await eventually(async () => ((await preview.evaluate((img: { complete: boolean; naturalWidth: number }) => img.complete && img.naturalWidth)) === 2 ? true : undefined), 10_000, 'the preview to load');
    const res = await fetch((await link.getAttribute('href'))!);
    expect([res.status, res.headers.get('content-type')]).toEqual([200, 'image/png']);
    await shot('task-output-files');
  });

  it('cancels a running task from its page', async () => {
    const task = await server.client.submit({ functionId, input: { lines: 100, ms: 300 } });
    await go(`#/tasks/${task.id}`);
    await page.locator('pre.logs').getByText('step 1 of 100').waitFor({ timeout: 10_000 });
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.locator('.page-header .badge', { hasText: 'CANCELLED' }).waitFor({ timeout: 10_000 });
    expect((await server.client.getTask(task.id)).status).toBe('CANCELLED');
    await expect(page.getByRole('button', { name: 'Cancel' }).count()).resolves.toBe(0);
    await shot('task-cancelled');
  });

  it('shows the deployment: timeline with scaling marks, instances, events, and redeploys it', async () => {
    await go('#/functions');
    await page.locator('[data-function="steps"]').getByRole('link', { name: 'v1' }).click();
    const chart = page.locator('.timeline-chart');
    await chart.locator('canvas').waitFor();
    await eventually(async () => (Number(await chart.getAttribute('data-samples')) >= 2 ? true : undefined), 10_000, 'two samples');
    expect(Number(await chart.getAttribute('data-marks'))).toBeGreaterThan(0);
    await page.locator('table.instances tbody tr', { hasText: /IDLE|BUSY|STARTING/ }).first().waitFor();
    await page.locator('table.events tbody tr', { hasText: 'scaling' }).first().waitFor();
    await page.getByRole('button', { name: 'Redeploy' }).click();
    await page.getByText(/^Redeployed at/).waitFor();
    expect((await server.client.getDeployment(functionId, versionId)).maxInstances).toBe(2);
    await shot('deployment');
  });

  it('lists triggers with their state and the tasks each made, pauses one, and shows a task’s deliveries', async () => {
    const trigger = await server.client.triggers.create({ name: 'nightly', functionId, kind: 'cron', schedule: '0 3 * * *', task: { input: { lines: 1, ms: 10 } } });
    const hook = await server.client.triggers.create({ name: 'inbound', functionId, kind: 'webhook' });
    const body = JSON.stringify({ lines: 1, ms: 10 });
    const headers = signWebhook(secretKey(hook.secret!), 'msg_dash', Date.now(), body);
    const fired = (await (await fetch(`${server.url}${hook.hookPath}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })).json()) as { taskId: string };
    await go('#/triggers');
    const row = page.locator('tr[data-trigger="nightly"]');
    await row.locator('.badge', { hasText: 'ACTIVE' }).waitFor();
    await row.getByRole('button', { name: 'Pause' }).click();
    await row.locator('.badge', { hasText: 'PAUSED' }).waitFor();
    expect((await server.client.triggers.get(trigger.id)).state).toBe('PAUSED');
    await page.locator('tr[data-trigger="inbound"]').getByRole('link', { name: 'inbound' }).click();
    await page.locator('ul.fires a', { hasText: fired.taskId }).waitFor();
    await shot('triggers');

    // A delivery to an address the outbound policy refuses: DEAD at once, with the reason.
    const task = await server.client.submit({ functionId, input: { lines: 1, ms: 10 }, destinations: { onSuccess: { webhook: { url: 'http://127.0.0.1:9/hook', secret: hook.secret! } } } });
    await go(`#/tasks/${task.id}`);
    const delivery = page.locator('.deliveries .delivery');
    await delivery.locator('.badge', { hasText: 'DEAD' }).waitFor({ timeout: 20_000 });
    await delivery.getByText(/refused before connecting: 127\.0\.0\.1 is a loopback address/).waitFor();
    await shot('task-deliveries');
  });

  it('draws an execution as the graph of its states, coloured by status, each state’s tasks a click away', async () => {
    await server.client.workflows.create({
      name: 'fan',
      definition: {
        StartAt: 'Prepare',
        States: {
          Prepare: { Type: 'Pass', Result: [1, 2, 3], ResultPath: '$.items', Next: 'Each' },
          Each: { Type: 'Map', ItemsPath: '$.items', MaxConcurrency: 2, ItemProcessor: { StartAt: 'Work', States: { Work: { Type: 'Task', Resource: 'steps', Parameters: { lines: 1, ms: 10 }, End: true } } }, Next: 'Hold', Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Oops' }] },
          Hold: { Type: 'Task', Resource: 'steps', Parameters: { lines: 100, ms: 100 }, End: true },
          Oops: { Type: 'Fail', Error: 'Oops' },
        },
      },
    });
    const e = await server.client.workflows.run('fan', { input: {} });
    await go('#/workflows');
    await page.locator(`tr[data-execution="${e.id}"] a`).click();
    // The Map's items done, the long task running, the catch's target not reached.
    await page.locator('[data-state="Hold"][data-status="running"]').waitFor({ timeout: 30_000 });
    for (const [state, status] of [['Prepare', 'succeeded'], ['Each', 'succeeded'], ['Each.*.Work', 'succeeded'], ['Oops', 'idle']]) {
      expect(await page.locator(`[data-state="${state}"]`).getAttribute('data-status')).toBe(status);
    }
    await page.locator('[data-state="Each.*.Work"] > rect').click();
    // The state's tasks are read once it is picked.
    await page.locator('.step-tasks li a').nth(2).waitFor();
    await expect(page.locator('.step-tasks li a').count()).resolves.toBe(3);
    await shot('execution');
    const [work] = (await server.client.workflows.tasks(e.id, { state: 'Work' })).items;
    await page.locator('.step-tasks li a', { hasText: work!.taskId }).click();
    await page.locator('h1', { hasText: 'Task' }).waitFor();
    await go(`#/executions/${e.id}`);
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.locator('h1 .badge', { hasText: 'CANCELLED' }).waitFor();
    expect((await server.client.workflows.execution(e.id)).status).toBe('CANCELLED');
  });

  it('shows the nodes with their declared GPUs and the instances on them', async () => {
    await go('#/nodes');
    const h200 = page.locator('tr[data-gpu-type="H200"]');
    await h200.waitFor();
    await expect(h200.locator('td').nth(2).textContent()).resolves.toBe('2');
    await expect(page.locator('[data-gpu]').count()).resolves.toBe(2);
    await page.locator('.gpu-whole').first().waitFor();
    await page.locator('table.instances tbody tr').first().waitFor();
    await shot('nodes');
  });

  it('signs out, and signs in again with the admin key file', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('or the admin key file').setInputFiles(join(server.dataDir, 'admin.key'));
    await page.locator('.topbar').waitFor();
    expect(await page.evaluate('localStorage.getItem("ferry.apiKey")')).toBe(server.adminKey);
  });
});
