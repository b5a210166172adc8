/** First key of the lock that orders deployment events ("feve"): the two-key form, apart from the one-key locks. */
const EVENTS_LOCK_CLASS = 0x66657665;

/** The statements of the fleet's history: deployment events and the autoscaler's load samples. */
export const HISTORY_SQL = {
  /**
   * Followers page events by `seq` (listFleetEvents), so a number must never become visible after
   * a higher one: an identity is drawn at insert but seen at commit, and two replicas' inserts
   * would otherwise commit out of order and a follower past the higher one would skip the lower
   * for good. A transaction-scoped advisory lock, taken before the number is drawn and held to the
   * commit, puts the inserts of one schema in a row; events are few, so the wait costs nothing.
   */
  addEvent: `WITH turn AS (SELECT pg_advisory_xact_lock(${EVENTS_LOCK_CLASS}, hashtext(current_schema())))
    INSERT INTO deployment_events (version_id, at, kind, subject, from_state, to_state, reason)
    SELECT $1::text, $2::bigint, $3::text, $4::text, $5::text, $6::text, $7::text FROM turn`,
  eventsOfVersion: 'SELECT * FROM deployment_events WHERE version_id = $1 ORDER BY seq DESC LIMIT $2',
  lastEventSeq: 'SELECT max(seq) AS seq FROM deployment_events',
  addLoadSample: 'INSERT INTO load_samples (version_id, at, queued, running, instances, desired) VALUES ($1, $2, $3, $4, $5, $6)',
  loadSamples: 'SELECT * FROM load_samples WHERE version_id = $1 AND at >= $2 ORDER BY at DESC LIMIT $3',
  pruneLoadSamples: 'DELETE FROM load_samples WHERE at < $1',
};
