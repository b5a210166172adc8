import { bullmqPeer } from './bullmq.js';
import { graphileWorkerPeer } from './graphile-worker.js';
import { within, type PeerQueue } from './peer.js';
import { pgBossPeer } from './pg-boss.js';

export type { PeerQueue } from './peer.js';

/** One of each peer, not opened yet. */
export function allPeers(): PeerQueue[] {
  return [bullmqPeer(), graphileWorkerPeer(), pgBossPeer()];
}

/**
 * Opens every peer. One that does not open (its Redis or PostgreSQL is not there) is closed again
 * and left out, with a note saying why, so the benchmark still measures the others.
 */
export async function openPeers(timeoutMs = 60_000): Promise<{ peers: PeerQueue[]; notes: string[] }> {
  const peers: PeerQueue[] = [];
  const notes: string[] = [];
  for (const peer of allPeers()) {
    try {
      await within(peer.open(), timeoutMs, `${peer.name}: open`);
      peers.push(peer);
    } catch (err) {
      notes.push(`${peer.name} not measured: it did not open (${err instanceof Error ? err.message : String(err)})`);
      await peer.close().catch(() => {});
    }
  }
  return { peers, notes };
}
