import { LEASED_TASK_STATUSES, LIVE_INSTANCE_STATES, SERVING_DEPLOYMENT_STATES } from '../core/states.js';

/*
 * Groups of states (core/states.ts) as SQL lists for `IN`, written alike by both adapters. They
 * are constants, never input, so they go into the statement text, where the planner can match
 * them to the partial indexes defined on the same lists.
 */
const list = (values: readonly string[]): string => `('${values.join("','")}')`;

export const LEASED = list(LEASED_TASK_STATUSES);
export const LIVE_INSTANCES = list(LIVE_INSTANCE_STATES);
export const SERVING = list(SERVING_DEPLOYMENT_STATES);
