import { useEffect, useState } from 'react';
import type { TaskInfo } from '../../../src/sdk/client.ts';
import { formatBytes } from '../format.ts';
import { useClient } from '../session.ts';

/** Pre-signed download URLs are asked for the first files only: a task may leave thousands. */
const SHOWN = 24;

/** The files a task left as assets: each with a download link, images with a preview. */
export function OutputAssets({ taskId, assets }: { taskId: string; assets: TaskInfo['outputAssets'] }) {
  const client = useClient();
  const [urls, setUrls] = useState<Record<string, string>>({});
  const shown = assets.slice(0, SHOWN);
  const ids = shown.map((a) => a.id).join(',');
  // Keyed by the ids: the task's record is a new object at every change, its files are not.
  useEffect(() => {
    let live = true;
    void Promise.all(
      (ids ? ids.split(',') : []).map(async (id) => {
        const { downloadUrl } = await client.assets.get(id);
        return [id, downloadUrl ?? ''] as const;
      }),
    ).then((pairs) => live && setUrls(Object.fromEntries(pairs)), () => {});
    return () => {
      live = false;
    };
  }, [client, ids]);

  return (
    <section className="card output-assets">
      <h2>Output files</h2>
      <ul>
        {shown.map((a) => (
          <li key={a.id} data-asset={a.id}>
            {urls[a.id] ? (
              <a href={urls[a.id]} download={a.name}>
                {a.name}
              </a>
            ) : (
              <span>{a.name}</span>
            )}{' '}
            <span className="muted small">
              {formatBytes(a.sizeBytes)} · {a.contentType}
            </span>
            {a.contentType.startsWith('image/') && urls[a.id] && <img className="preview" src={urls[a.id]} alt={a.name} />}
          </li>
        ))}
      </ul>
      {assets.length > SHOWN && <p className="muted small">and {assets.length - SHOWN} more: <code>ferry assets list --task {taskId}</code></p>}
    </section>
  );
}
