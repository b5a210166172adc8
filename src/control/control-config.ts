import { BlockList } from 'node:net';

/** Timers and bounds of the control plane, parsed once in the composition root. */
export interface ControlConfig {
  /** How long a claimed task's lease lasts without a heartbeat. */
  leaseMs: number;
  /** How often the lease reaper, queue-expiry and lost-node sweep run. */
  reaperIntervalMs: number;
  /** A node whose agent has not been heard from for this long is declared LOST. */
  nodeLostMs: number;
  /** Fallback period of the reconciler; it also runs on every relevant event. */
  reconcileIntervalMs: number;
  /** First retry back-off; doubles per attempt. */
  retryBaseMs: number;
  /** First back-off before replacing a failed instance; doubles per consecutive failure. */
  restartBaseMs: number;
  /** Consecutive instance failures with none serving that put a deployment in ERROR. */
  maxStartFailures: number;
  /** How often a follower of a stream reads again when no change made through this replica woke it. */
  streamPollMs: number;
  /** Least time between two load samples of a deployment while only its queue moves (see LoadSampler). */
  loadSampleMs: number;
  /** Outcomes handed to a feed subscriber at once. */
  outcomeBatch: number;
  /** How often the outcome feed is read again when no attempt's end woke its subscribers. */
  outcomePollMs: number;
  /** Outcomes older than this are pruned even when a consumer has not read them. */
  outcomeRetentionMs: number;
  /** How often assets past their expiry (not pinned, held by no live task) are deleted with their bytes. */
  assetSweepMs: number;
  /** How often the leader reads the triggers again when no change woke its runners. */
  triggerPollMs: number;
  /** Queued tasks of a broker trigger's version past which its consumer stops pulling (back-pressure). */
  triggerMaxQueued: number;
  /** First back-off of a failed delivery; doubles per attempt, at most an hour. */
  deliveryRetryBaseMs: number;
  /** How often due deliveries are looked for when nothing woke the worker. */
  deliveryPollMs: number;
  /** How long the audit log keeps an entry. */
  auditRetentionMs: number;
  /** How often the leader looks for executions' due timers when nothing woke it (and waits before trying a failed one again). */
  workflowPollMs: number;
  /** How long a webhook POST may take. */
  webhookTimeoutMs: number;
  /** Ranges webhooks may reach though the outbound policy forbids them (FERRY_WEBHOOK_ALLOW_CIDRS); none by default. */
  webhookAllowed: BlockList;
}

export const DEFAULT_CONTROL_CONFIG: ControlConfig = {
  leaseMs: 30_000,
  reaperIntervalMs: 1_000,
  nodeLostMs: 30_000,
  reconcileIntervalMs: 1_000,
  retryBaseMs: 1_000,
  restartBaseMs: 1_000,
  maxStartFailures: 3,
  streamPollMs: 1_000,
  loadSampleMs: 5_000,
  outcomeBatch: 100,
  outcomePollMs: 1_000,
  outcomeRetentionMs: 7 * 24 * 3_600_000,
  assetSweepMs: 60_000,
  triggerPollMs: 5_000,
  triggerMaxQueued: 10_000,
  deliveryRetryBaseMs: 5_000,
  deliveryPollMs: 1_000,
  workflowPollMs: 1_000,
  auditRetentionMs: 90 * 86_400_000,
  webhookTimeoutMs: 10_000,
  webhookAllowed: new BlockList(),
};
