/**
 * Worker Versioning: the behaviour of each workflow type when a new Worker Deployment Version (a new
 * build of the worker) becomes current. docs/deploys.md walks through a deploy.
 *
 * - portfolioLoop runs for months, so it cannot wait for one build to drain; but a change to its code
 *   need not replay its history either. It is PINNED: a run only ever executes on the build that
 *   started it, so any workflow change is safe within a run. When the server reports that the
 *   deployment's target version changed (a new current or ramping version), the loop finishes the
 *   cycle in progress, applies the decisions queued, and continues-as-new with AUTO_UPGRADE as the new
 *   run's initial behaviour: the new run starts on the new build, with the state carried in its input
 *   (so LoopState must stay readable by the next build and, for a rollback, by the previous one).
 *   AUTO_UPGRADE was rejected: a loop would replay its history on the new build mid-run, so every
 *   change would need patched() forever, and one missed patch fails a risk loop's workflow tasks.
 * - manualRebalance is one-shot (minutes to an approval timeout): PINNED, it completes on the build
 *   that started it; the old build's workers stay up until these drain.
 *
 * Upgrade on continue-as-new needs a server that sends the target-version flag and honours the
 * continue-as-new initial behaviour (Temporal server 1.32, in deploy/temporal-server; the `temporal`
 * CLI's dev server v1.5.1 is 1.29.1 and does not): on an older server a pinned loop stays on its build
 * until moved by an operator (docs/deploys.md).
 */
import * as wf from '@temporalio/workflow';

type DefinitionOptions = Parameters<typeof wf.setWorkflowOptions>[0];

/**
 * A behaviour applies on versioned workers only: an unversioned worker (tests, `--no-versioning`)
 * must not state one, or the server refuses its workflow task completions.
 */
const onVersionedWorkers =
  (behavior: 'PINNED' | 'AUTO_UPGRADE'): DefinitionOptions =>
  () =>
    wf.workflowInfo().currentDeploymentVersion?.deploymentName ? { versioningBehavior: behavior } : {};

export const LOOP_VERSIONING = onVersionedWorkers('PINNED');
export const MANUAL_REBALANCE_VERSIONING = onVersionedWorkers('PINNED');

/** True once the server says a newer build is the target for this (pinned) run: time to move at the next boundary. */
export function newBuildIsTarget(): boolean {
  return wf.workflowInfo().targetWorkerDeploymentVersionChanged === true;
}

/** Continue-as-new whose first task goes to the deployment's target version (the new build), not this run's. */
export function continueAsNewOnTargetBuild<F extends wf.Workflow>(...args: Parameters<F>): Promise<never> {
  return wf.makeContinueAsNewFunc<F>({ initialVersioningBehavior: 'AUTO_UPGRADE' })(...args);
}
