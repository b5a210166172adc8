import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { FerryError, invalid } from '../../core/errors.js';
import { type ItemSource, ItemsMissing } from '../../core/workflows/interpreter.js';
import { assetIdIn } from '../../core/workflows/workflow.js';
import type { Store } from '../../store/store.js';
import type { AssetsService } from '../assets/assets-service.js';

/** Items a page holds: the unit a Map's items are stored, read and kept in memory by. */
const ITEM_PAGE = 1000;
/** Pages kept in memory across executions; a Map in flight needs one or two. */
const CACHED_PAGES = 64;
/** Pages stored in one write while an asset is read. */
const PAGES_PER_WRITE = 10;
/** A JSON array is parsed whole: larger lists must be JSON Lines, which are read a line at a time. */
const MAX_JSON_ARRAY_BYTES = 64 * 1024 * 1024;
/** The content type a ResultWriter's asset has (one JSON value per line, in item order). */
const RESULTS_CONTENT_TYPE = 'application/x-ndjson';

/**
 * The I/O of Maps whose items come from an asset (ItemReader) or whose results go to one
 * (ResultWriter): the asset is read once into pages in the store, and items are taken from a small
 * cache of pages, so memory holds the items in flight, not the list; results kept in the store are
 * written out in item order, a page at a time.
 */
export class MapItems {
  private readonly pages = new Map<string, unknown[]>();

  constructor(
    private readonly store: Pick<Store, 'workflows'>,
    private readonly assets: AssetsService,
  ) {}

  /** The item source of one execution for the interpreter: items of pages at hand, ItemsMissing otherwise. */
  source(executionId: string): ItemSource {
    return (key, index) => {
      const page = this.pages.get(pageKey(executionId, key, Math.floor(index / ITEM_PAGE)));
      if (!page) throw new ItemsMissing(key, index);
      if (index % ITEM_PAGE >= page.length) throw new Error(`item ${index} of ${key}: past the end of its page`);
      return page[index % ITEM_PAGE];
    };
  }

  /** Runs an interpreter step, loading each page it misses and running it again. */
  async withItems<T>(executionId: string, step: (items: ItemSource) => T): Promise<T> {
    for (;;) {
      try {
        return step(this.source(executionId));
      } catch (err) {
        if (!(err instanceof ItemsMissing)) throw err;
        const page = Math.floor(err.index / ITEM_PAGE);
        const items = await this.store.workflows.itemPage(executionId, err.key, page);
        if (!items) throw new Error(`execution ${executionId}: page ${page} of ${err.key}'s items is not stored`);
        this.remember(pageKey(executionId, err.key, page), items);
      }
    }
  }

  /** Reads the asset's items (a JSON array, or JSON Lines) into pages under the key; returns how many. */
  async read(tenantId: string, executionId: string, key: string, asset: unknown): Promise<number> {
    const id = assetIdIn(asset);
    if (id === null) throw invalid(`ItemReader.AssetPath: found ${JSON.stringify(asset)}, not an asset id or {"id": …}`);
    const { asset: record, body } = await this.assets.open(tenantId, id);
    let count = 0;
    let batch: { page: number; items: unknown[] }[] = [];
    let page: unknown[] = [];
    const flush = async (): Promise<void> => {
      if (page.length > 0) batch.push({ page: Math.floor((count - 1) / ITEM_PAGE), items: page });
      page = [];
      await this.store.workflows.putItemPages(executionId, key, batch);
      batch = [];
    };
    const add = async (item: unknown): Promise<void> => {
      page.push(item);
      count++;
      if (page.length < ITEM_PAGE) return;
      batch.push({ page: count / ITEM_PAGE - 1, items: page });
      page = [];
      if (batch.length >= PAGES_PER_WRITE) await flush();
    };
    if ((await firstChar(body)) === '[') {
      if ((record.sizeBytes ?? 0) > MAX_JSON_ARRAY_BYTES) throw invalid(`ItemReader: asset ${id} is a JSON array of ${record.sizeBytes} bytes; above ${MAX_JSON_ARRAY_BYTES} give the items as JSON Lines`);
      const list = JSON.parse(await text(body)) as unknown;
      if (!Array.isArray(list)) throw invalid(`ItemReader: asset ${id} is not a JSON array or JSON Lines`);
      for (const item of list) await add(item);
    } else {
      let line = 0;
      for await (const text of createInterface({ input: body, crlfDelay: Infinity })) {
        line++;
        if (text.trim() === '') continue;
        try {
          await add(JSON.parse(text));
        } catch (err) {
          if (err instanceof SyntaxError) throw invalid(`ItemReader: line ${line} of asset ${id} is not JSON`);
          throw err;
        }
      }
    }
    await flush();
    return count;
  }

  /**
   * Writes the Map's results, in item order, as JSON Lines to a new asset: those kept in the store
   * merged with `pending` (those of the step being made, not yet stored). Returns its reference.
   */
  async write(tenantId: string, executionId: string, key: string, count: number, pending: { index: number; value: unknown }[]): Promise<{ id: string; sizeBytes: number; contentType: string }> {
    const dir = await mkdtemp(join(tmpdir(), 'ferry-results-'));
    try {
      const file = join(dir, 'results.jsonl');
      const out = createWriteStream(file);
      const extra = [...pending].sort((a, b) => a.index - b.index);
      let written = 0;
      const put = async (value: unknown): Promise<void> => {
        written++;
        if (!out.write(`${JSON.stringify(value ?? null)}\n`)) await once(out, 'drain');
      };
      // Both in item order: a pending result takes the place of a stored one of its index.
      let x = 0;
      for (let after = -1; ; ) {
        const stored = await this.store.workflows.mapResults(executionId, key, after, ITEM_PAGE);
        for (const r of stored) {
          while (x < extra.length && extra[x]!.index < r.index) await put(extra[x++]!.value);
          await put(x < extra.length && extra[x]!.index === r.index ? extra[x++]!.value : r.value);
        }
        if (stored.length < ITEM_PAGE) break;
        after = stored[stored.length - 1]!.index;
      }
      while (x < extra.length) await put(extra[x++]!.value);
      out.end();
      await finished(out);
      if (written !== count) throw new FerryError('INTERNAL', `the Map under ${key} kept ${written} results of ${count}`);
      const asset = await this.assets.storeFile(tenantId, { contentType: RESULTS_CONTENT_TYPE, description: `results of ${key} in execution ${executionId}` }, file);
      return { id: asset.id, sizeBytes: asset.sizeBytes!, contentType: asset.contentType };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  private remember(key: string, items: unknown[]): void {
    this.pages.delete(key);
    this.pages.set(key, items);
    if (this.pages.size > CACHED_PAGES) this.pages.delete(this.pages.keys().next().value!);
  }
}

const pageKey = (executionId: string, key: string, page: number): string => `${executionId}\u0000${key}\u0000${page}`;

/** The stream's first non-blank character (undefined when it has none); what was read is put back. */
async function firstChar(body: Readable): Promise<string | undefined> {
  const seen: Buffer[] = [];
  try {
    for (;;) {
      const chunk = body.read() as Buffer | null;
      if (chunk === null) {
        if (body.readableEnded) return undefined;
        await once(body, 'readable');
        continue;
      }
      seen.push(chunk);
      const c = chunk.toString('utf8').trimStart()[0];
      if (c !== undefined) return c;
    }
  } finally {
    for (const b of seen.reverse()) body.unshift(b);
  }
}

async function text(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
