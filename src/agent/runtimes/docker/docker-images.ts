import type Docker from 'dockerode';

export type PullPolicy = 'IfNotPresent' | 'Always' | 'Never';

/**
 * Makes sure the image is on the node, as the pull policy says, reporting pull progress a line
 * per layer step. Throws with a reason that names the image when it cannot be had.
 */
export async function ensureImage(docker: Docker, image: string, policy: PullPolicy, progress: (line: string) => void, signal: AbortSignal): Promise<void> {
  const present = await docker
    .getImage(image)
    .inspect()
    .then(() => true)
    .catch(() => false);
  if (policy === 'Never') {
    if (!present) throw new Error(`image ${image} is not on this node and its pullPolicy is Never`);
    return;
  }
  if (present && policy === 'IfNotPresent') return;
  progress(`pulling ${image}`);
  try {
    const stream = await docker.pull(image, { abortSignal: signal });
    await new Promise<void>((resolve, reject) => {
      docker.modem.followProgress(
        stream,
        (err) => (err ? reject(err) : resolve()),
        (event: { status?: string; id?: string; progress?: string; error?: string }) => {
          if (event.error) return;
          // Per-byte progress ticks would flood the log: status changes only.
          if (event.status && !event.progress) progress(`${event.id ? `${event.id}: ` : ''}${event.status}`);
        },
      );
    });
  } catch (err) {
    if (present) {
      progress(`pull of ${image} failed (${(err as Error).message}); using the image already on this node`);
      return;
    }
    throw new Error(`cannot pull image ${image}: ${(err as Error).message}`);
  }
}
