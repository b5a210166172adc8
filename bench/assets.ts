/**
 * Assets through Ferry's disk blob store against the same bytes copied on the same disk: upload
 * and download MB/s (the SDK's streamed `uploadAsset` / `downloadAsset`, sha256 included, against
 * a streamed file copy and the same copy hashing as it goes), the server's peak RSS while a large
 * asset goes up, into a job that checksums it, and back down; and a task's time to start with a
 * 100 MB input asset, cold (the node downloads it) and from the node's cache. Prints a table and
 * writes it to bench/results/assets-<date>.md; it never passes or fails on a time.
 *
 *   node --import tsx bench/assets.ts [--quick]
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { downloadAsset, uploadAsset } from '../src/sdk/asset-files.js';
import { type AssetInfo, FerryClient } from '../src/sdk/client.js';
import { FerryServer } from './lib/ferry-server.js';
import { publish } from './lib/report.js';
import { ms } from './lib/stats.js';
import { RssSampler } from './lib/rss.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MiB = 1024 * 1024;
const log = (msg: string): void => void process.stderr.write(`[bench] ${msg}\n`);

/** A job that prints the wall-clock time it started at, then the sha256 of each input asset. */
const CHECKSUM_JOB = `const { createHash } = require('node:crypto');
const { createReadStream, readdirSync } = require('node:fs');
const { join } = require('node:path');
const started = Date.now();
(async () => {
  const sums = {};
  for (const name of readdirSync(process.env.FERRY_INPUT_ASSETS_DIR)) {
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(join(process.env.FERRY_INPUT_ASSETS_DIR, name))) hash.update(chunk);
    sums[name] = hash.digest('hex');
  }
  console.log(JSON.stringify({ started, sums }));
})();`;

export async function main(argv: readonly string[]): Promise<void> {
  const quick = argv.includes('--quick');
  const large = (quick ? 256 : 1024) * MiB;
  const input = 100 * MiB;
  const startedAt = new Date();
  const dir = await mkdtemp(join(tmpdir(), 'ferry-bench-assets-'));
  const server = await FerryServer.start(REPO_ROOT, join(dir, 'data'), 30_000);
  const rss = new RssSampler(server.child.pid!);
  const notes: string[] = [];
  try {
    const client = new FerryClient(server.url, server.adminKey);
    await writeFile(join(dir, 'checksum.cjs'), CHECKSUM_JOB);
    const fn = await client.createFunction({
      name: 'bench-checksum',
      version: { mode: 'job', runtime: { type: 'process' }, job: { command: [process.execPath, join(dir, 'checksum.cjs')], output: 'lastStdoutLine' }, concurrency: 1, timeoutSeconds: 3600 },
    });
    await client.deploy(fn.id, fn.version.id, { minInstances: 1, maxInstances: 1 });

    log(`writing a ${large / MiB} MiB file`);
    const source = join(dir, 'large.bin');
    await writeRandom(source, large);
    const copy = await timed(() => pipeline(createReadStream(source), createWriteStream(join(dir, 'copy.bin'))));
    const hashedCopy = await timed(() => pipeline(createReadStream(source), hashing(), createWriteStream(join(dir, 'copy2.bin'))));
    await rm(join(dir, 'copy.bin'));
    await rm(join(dir, 'copy2.bin'));

    log('uploading it');
    rss.start();
    const t0 = performance.now();
    const asset: AssetInfo = await uploadAsset(client, source);
    const up = performance.now() - t0;
    log('a job checksums it');
    const task = await client.submit({ functionId: fn.id, input: {}, inputAssets: [asset.id] });
    const done = await client.wait(task.id, { timeoutMs: 600_000 });
    const sums = (done.output as { sums?: Record<string, string> } | null)?.sums ?? {};
    if (sums[asset.id] !== asset.sha256) notes.push(`the job's checksum of the large asset (${sums[asset.id] ?? 'none'}) is not the asset's (${asset.sha256})`);
    log('downloading it');
    const down = await timed(() => downloadAsset(client, asset.id, join(dir, 'back.bin')).then(() => undefined));
    rss.stop();
    await rm(join(dir, 'back.bin'));

    log(`a task with a ${input / MiB} MiB input asset, cold and from the node's cache`);
    const inputFile = join(dir, 'input.bin');
    await writeRandom(inputFile, input);
    const inputAsset = await uploadAsset(client, inputFile);
    const startOf = async (): Promise<number> => {
      const submitted = Date.now();
      const t = await client.submit({ functionId: fn.id, input: {}, inputAssets: [inputAsset.id] });
      const ended = await client.wait(t.id, { timeoutMs: 600_000 });
      return (ended.output as { started: number }).started - submitted;
    };
    const cold = await startOf();
    const cached = await startOf();
    const noAsset = await (async () => {
      const submitted = Date.now();
      const t = await client.submit({ functionId: fn.id, input: {} });
      const ended = await client.wait(t.id, { timeoutMs: 60_000 });
      return (ended.output as { started: number }).started - submitted;
    })();

    const mbps = (bytes: number, msTaken: number): string => `${(bytes / MiB / (msTaken / 1000)).toFixed(0)} MiB/s`;
    await publish({
      name: 'assets',
      title: 'Ferry assets benchmark (disk blob store)',
      startedAt,
      quick,
      body: [
        `A ${large / MiB} MiB file of random bytes, on the same disk as the server's data directory. Uploads and downloads go through`,
        'the SDK (`uploadAsset` hashes the file first, then streams it to the pre-signed URL; `downloadAsset` streams it to a file,',
        'hashing on the way); the floors are a streamed copy of the file, and the same copy hashing as it goes.',
        '',
        '| case | time | rate | ÷ hashed copy |',
        '| --- | ---: | ---: | ---: |',
        `| floor: streamed file copy | ${ms(copy)} | ${mbps(large, copy)} | — |`,
        `| floor: streamed file copy, hashing (sha256) | ${ms(hashedCopy)} | ${mbps(large, hashedCopy)} | 1.00× |`,
        `| upload through Ferry (hash, then PUT) | ${ms(up)} | ${mbps(large, up)} | ${(hashedCopy / up).toFixed(2)}× |`,
        `| download through Ferry (GET, hashing) | ${ms(down)} | ${mbps(large, down)} | ${(hashedCopy / down).toFixed(2)}× |`,
        '',
        `Server RSS while the ${large / MiB} MiB asset went up, into a job that checksummed it, and back down: peak ${(rss.peak / MiB).toFixed(0)} MiB (sampled every 100 ms).`,
        '',
        `| a task with a ${input / MiB} MiB input asset | submit → its command starts |`,
        '| --- | ---: |',
        `| no input asset (the floor) | ${ms(noAsset)} |`,
        `| cold: the node downloads the asset | ${ms(cold)} |`,
        `| from the node's cache | ${ms(cached)} |`,
      ],
      notes,
    });
  } finally {
    rss.stop();
    await server.stop(5_000);
    await rm(dir, { recursive: true, force: true });
  }
}

async function timed(work: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await work();
  return performance.now() - t0;
}

function hashing(): Transform {
  const hash = createHash('sha256');
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
}

/** Random bytes, written in 4 MiB chunks. */
async function writeRandom(path: string, size: number): Promise<void> {
  const out = createWriteStream(path);
  for (let left = size; left > 0; left -= 4 * MiB) {
    if (!out.write(randomBytes(Math.min(left, 4 * MiB)))) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r) => out.end(() => r()));
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await main(process.argv.slice(2));
}
