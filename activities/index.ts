/**
 * Every activity of the Ballast worker, by retry class: reads (bounded retries) and writes (keyed,
 * retried until they land). The classes are the contract's (workflows/contract.ts), so the workflow's
 * retry policy for an activity follows from the file it lives in.
 */
import type { ReadActivities, WriteActivities } from '../workflows/contract';
import type { ActivityDeps } from './deps';
import { readActivities } from './reads';
import { storedReferences } from './references';
import { writeActivities } from './writes';

export type { ActivityDeps } from './deps';

export function createActivities(deps: ActivityDeps): ReadActivities & WriteActivities {
  const refs = storedReferences(deps.stores); // one cache of policies and budgets for both classes
  return { ...readActivities(deps, refs), ...writeActivities(deps, refs) };
}
