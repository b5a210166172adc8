/** Fixed limits of the platform, in one place so the API, the store and the agent agree. */
export const LIMITS = {
  /** Largest request body the API reads (inputs above ~5 MB belong in assets). */
  maxBodyBytes: 6 * 1024 * 1024,
  /** How deeply a JSON body (a task input, a definition) may nest: deeper ones are refused before they are parsed. */
  maxJsonDepth: 128,
  /** Largest task input kept inline. */
  maxInputBytes: 5 * 1024 * 1024,
  /** Input assets one task may name. */
  maxInputAssets: 64,
  /** Largest asset one upload may carry. */
  maxAssetBytes: 1024 ** 4,
  /** How long an asset is kept unless pinned (or given its own `ttlSeconds`). */
  defaultAssetTtlSeconds: 7 * 86_400,
  /** How long a pre-signed upload or download URL stays valid. */
  transferUrlSeconds: 3_600,
  /** Largest output kept inline; larger ones need assets. */
  maxInlineOutputBytes: 1024 * 1024,
  /** Log bytes kept per attempt; the rest is dropped with a marker line. */
  maxLogBytesPerAttempt: 1024 * 1024,
  maxTimeoutSeconds: 86_400,
  defaultTimeoutSeconds: 3_600,
  defaultMaxQueuedSeconds: 259_200,
  defaultStopGraceSeconds: 5,
  maxRetries: 20,
  /** Attempts lost to a dead agent or server re-queue this many times beyond `retries`. */
  extraAttemptsForLostLeases: 3,
  minPriority: -100,
  maxPriority: 100,
  maxPageSize: 500,
  /** Tasks one `POST /v1/tasks/batch` may carry (all in one transaction). */
  maxBatchTasks: 1000,
  defaultPageSize: 50,
  /** `Prefer: wait=N` is capped here. */
  maxSyncWaitSeconds: 300,
  defaultSyncWaitSeconds: 5,
} as const;
