import type Database from 'better-sqlite3';
import { LEASED } from '../status-lists.js';

/**
 * The statements on the store's hot paths, prepared once per connection. Those that answer one
 * column are prepared plucked: `pluck()` at each call costs some 4 µs.
 */
export function prepareHotStatements(db: Database.Database) {
  return {
    insertTask: db.prepare(`INSERT INTO tasks (id, tenant_id, function_id, version_id, task_type, status, priority, input, input_assets, destinations, attempt,
      max_attempts, timeout_s, idempotency_key, request_hash, created_at, run_at, expires_at)
      VALUES (@id, @tenantId, @functionId, @versionId, @taskType, 'QUEUED', @priority, @input, @inputAssets, @destinations, @attempt,
      @maxAttempts, @timeoutSeconds, @idempotencyKey, @requestHash, @createdAt, @runAt, @expiresAt)`),
    taskById: db.prepare('SELECT * FROM tasks WHERE id = ?'),
    taskByKey: db.prepare('SELECT * FROM tasks WHERE tenant_id = ? AND idempotency_key = ?'),
    instanceState: db.prepare('SELECT state, version_id, node_id FROM instances WHERE id = ?'),
    // Reads only the tasks_queue partial index: the first `limit` runnable rows in claim order.
    claimable: db.prepare(`SELECT seq FROM tasks WHERE version_id = @versionId AND status = 'QUEUED' AND run_at <= @now
      ORDER BY priority DESC, seq LIMIT @limit`).pluck(),
    lease: db.prepare(`UPDATE tasks SET status = 'RUNNING', instance_id = @instanceId, node_id = @nodeId, started_at = @now,
      lease_expires_at = @leaseUntil WHERE seq IN (SELECT value FROM json_each(@seqs)) RETURNING *`),
    // The blocks ahead (queue_blocks, migration 2), then the tasks ahead inside its own block.
    position: db.prepare(`WITH me AS (SELECT seq, seq >> 10 AS block FROM tasks WHERE id = @id)
      SELECT (SELECT coalesce(sum(queued), 0) FROM queue_blocks, me WHERE version_id = @versionId
                AND (priority > @priority OR (priority = @priority AND queue_blocks.block < me.block)))
           + (SELECT count(*) FROM tasks, me WHERE version_id = @versionId AND status = 'QUEUED' AND priority = @priority
                AND tasks.seq >= me.block << 10 AND tasks.seq < me.seq)`).pluck(),
    renew: db.prepare(`UPDATE tasks SET lease_expires_at = @leaseUntil
      WHERE instance_id = @instanceId AND status IN ${LEASED} AND id IN (SELECT value FROM json_each(@ids))
      RETURNING id, attempt, status`),
    progress: db.prepare(`UPDATE tasks SET progress = @progress, progress_message = @message, partial_output = @partialOutput
      WHERE id = @id AND attempt = @attempt AND status IN ${LEASED}`),
    insertLog: db.prepare('INSERT INTO task_logs (task_id, attempt, stream, text, at) VALUES (?, ?, ?, ?, ?)'),
    finish: db.prepare(`UPDATE tasks SET status = @status, output = @output, output_type = @outputType, output_assets = @outputAssets, output_asset = @outputAsset, error = @error, finished_at = @now,
      lease_expires_at = NULL, progress = CASE WHEN @status = 'SUCCEEDED' THEN 100 ELSE progress END
      WHERE id = @id RETURNING *`),
    requeue: db.prepare(`UPDATE tasks SET status = 'QUEUED', attempt = attempt + 1, lost_attempts = lost_attempts + @lost,
      run_at = @runAt, error = @error, instance_id = NULL, node_id = NULL, lease_expires_at = NULL, progress = 0,
      progress_message = NULL, partial_output = NULL
      WHERE id = @id RETURNING *`),
    markCancelling: db.prepare("UPDATE tasks SET status = 'CANCELLING', error = ? WHERE id = ? RETURNING *"),
    expire: db.prepare(`UPDATE tasks SET status = 'EXPIRED', finished_at = @now, error = @error
      WHERE seq IN (SELECT seq FROM tasks WHERE status = 'QUEUED' AND expires_at <= @now LIMIT @limit) RETURNING *`),
    insertOutcome: db.prepare(`INSERT INTO task_outcomes (task_id, attempt, tenant_id, function_id, version_id, status, error_code, created_at, started_at, at)
      VALUES (@taskId, @attempt, @tenantId, @functionId, @versionId, @status, @errorCode, @createdAt, @startedAt, @at)`),
    apiKey: db.prepare('SELECT * FROM api_keys WHERE hash = ?'),
    queuedCount: db.prepare('SELECT coalesce(sum(queued), 0) FROM queue_blocks WHERE version_id = ?').pluck(),
    leasedCount: db.prepare(`SELECT count(*) FROM tasks WHERE version_id = ? AND status IN ${LEASED}`).pluck(),
  };
}

export type HotStatements = ReturnType<typeof prepareHotStatements>;
