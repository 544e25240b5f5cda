/** All activities of the Ballast worker, built over shared dependencies (pool, market data, logger). */
import { metricActivities } from './metrics';
import { outputActivities } from './outputs';
import { type ActivityDeps, riskCycleActivities } from './riskCycle';
import { triggerActivities } from './triggers';

export type { ActivityDeps } from './riskCycle';

export function createActivities(deps: ActivityDeps) {
  return {
    ...riskCycleActivities(deps),
    ...outputActivities(deps),
    ...triggerActivities(deps.pool),
    ...metricActivities(deps),
  };
}
