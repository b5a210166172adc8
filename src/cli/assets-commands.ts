import { basename } from 'node:path';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { FerryError } from '../core/errors.js';
import { type TransferProgress, downloadAsset, uploadAsset } from '../sdk/asset-files.js';
import type { AssetInfo } from '../sdk/client.js';
import { clientFor, globals, print } from './context.js';

const row = (a: AssetInfo) => ({ id: a.id, status: a.status, type: a.contentType, bytes: a.sizeBytes ?? '-', name: a.name ?? '-', description: a.description || '-', keepUntil: a.keepUntil ?? 'pinned' });

/** A byte progress bar on a terminal (stderr), none otherwise; `stop` ends it (again is nothing). */
export function byteProgress(cmd: Command, what: string): { onProgress: TransferProgress | undefined; stop: () => void } {
  if (!process.stderr.isTTY || globals(cmd).output === 'json') return { onProgress: undefined, stop: () => {} };
  const bar = new SingleBar({ format: `${what} |{bar}| {percentage}% {value}/{total} bytes`, stream: process.stderr, hideCursor: true });
  let started = false;
  return {
    onProgress: (done, total) => {
      if (!started) bar.start(total, 0);
      started = true;
      bar.update(done);
    },
    stop: () => {
      if (started) bar.stop();
      started = false;
    },
  };
}

export function assetsCommands(program: Command): void {
  const assets = program.command('assets').description('files kept by Ferry: task inputs over the inline limit, model weights, outputs');
  assets
    .command('upload <file>')
    .description('upload a file as a new asset (its size and SHA-256 declared, so only the exact bytes are kept)')
    .option('--type <contentType>', 'its MIME type', 'application/octet-stream')
    .option('--description <text>', 'what it is')
    .option('--pin', 'keep it past its expiry')
    .option('--ttl <seconds>', 'keep it this long (default 7 days)')
    .action(async (file: string, o: { type: string; description?: string; pin?: boolean; ttl?: string }, cmd: Command) => {
      const ttlSeconds = o.ttl === undefined ? undefined : Number(o.ttl);
      if (ttlSeconds !== undefined && !(Number.isInteger(ttlSeconds) && ttlSeconds > 0)) throw new FerryError('INVALID_REQUEST', `--ttl: "${o.ttl}" is not a whole number of seconds`);
      const bar = byteProgress(cmd, `uploading ${basename(file)}`);
      try {
        const asset = await uploadAsset(clientFor(cmd), file, { contentType: o.type, description: o.description, pinned: o.pin, ttlSeconds, onProgress: bar.onProgress });
        bar.stop();
        print(cmd, asset, [row(asset)]);
      } finally {
        bar.stop();
      }
    });
  assets
    .command('list')
    .description('your assets, newest first')
    .option('--status <status>', 'PENDING or READY')
    .option('--task <taskId>', 'the output assets of a task')
    .option('--limit <n>', 'at most this many', '50')
    .action(async (o: { status?: 'PENDING' | 'READY'; task?: string; limit: string }, cmd: Command) => {
      const page = await clientFor(cmd).assets.list({ status: o.status, taskId: o.task, limit: Number(o.limit) });
      print(cmd, page, page.items.map(row));
    });
  assets
    .command('get <assetId>')
    .description('an asset, with a download URL once READY')
    .action(async (id: string, _o, cmd: Command) => {
      const asset = await clientFor(cmd).assets.get(id);
      print(cmd, asset, [{ ...row(asset), sha256: asset.sha256 ?? '-', url: asset.downloadUrl ?? asset.uploadUrl ?? '-' }]);
    });
  assets
    .command('download <assetId>')
    .description('download an asset to a file, checking its SHA-256')
    .requiredOption('--out <file>', 'where to write it')
    .action(async (id: string, o: { out: string }, cmd: Command) => {
      const bar = byteProgress(cmd, `downloading ${id}`);
      try {
        const asset = await downloadAsset(clientFor(cmd), id, o.out, bar.onProgress);
        bar.stop();
        print(cmd, { ...asset, file: o.out }, [{ ...row(asset), file: o.out }]);
      } finally {
        bar.stop();
      }
    });
  assets
    .command('delete <assetId>')
    .description('delete an asset and its bytes (refused while a queued or running task uses it)')
    .action(async (id: string, _o, cmd: Command) => {
      await clientFor(cmd).assets.delete(id);
      print(cmd, { id, deleted: true }, [{ id, deleted: true }]);
    });
}
