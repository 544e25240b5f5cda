/**
 * Routing between Worker Deployment Versions (docs/deploys.md): make a build current (new workflows
 * start on it; pinned loops are told to move at their next continue-as-new), ramp a share of new
 * workflows to it, and describe a version's drainage. `npm start` makes its own build current at
 * start; in production an operator (or CI) does, once the new workers are up: `ballast deploy` or
 * `temporal worker deployment set-current-version`.
 */
import { type Client, isGrpcServiceError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { Logger } from 'pino';
import { type DeploymentVersion, canonicalVersion } from './buildId';

const NOT_FOUND = 5;
const FAILED_PRECONDITION = 9;

export interface RoutingOptions {
  /** How long to wait for the version's workers to have polled (the server only knows a version then). */
  readonly waitMs?: number;
  readonly identity?: string;
  readonly logger?: Logger;
}

/** Makes `version` the deployment's current version, waiting for its workers to have registered it. */
export async function setCurrentVersion(client: Client, version: DeploymentVersion, options: RoutingOptions = {}): Promise<void> {
  await untilRegistered(version, options, () =>
    client.workflowService.setWorkerDeploymentCurrentVersion({
      namespace: client.options.namespace,
      deploymentName: version.deploymentName,
      buildId: version.buildId,
      identity: options.identity ?? client.options.identity,
    }),
  );
  options.logger?.info({ version: canonicalVersion(version) }, 'current worker deployment version set');
}

/** Sends `percentage` of new workflows to `version` (0 stops the ramp), the rest to the current version. */
export async function setRampingVersion(
  client: Client,
  version: DeploymentVersion,
  percentage: number,
  options: RoutingOptions = {},
): Promise<void> {
  if (!(percentage >= 0 && percentage <= 100)) throw new RangeError(`ramp percentage must be in [0, 100], got ${percentage}`);
  await untilRegistered(version, options, () =>
    client.workflowService.setWorkerDeploymentRampingVersion({
      namespace: client.options.namespace,
      deploymentName: version.deploymentName,
      buildId: percentage === 0 ? '' : version.buildId,
      percentage,
      identity: options.identity ?? client.options.identity,
    }),
  );
}

export interface VersionDrainage {
  /** UNSPECIFIED (current or ramping), DRAINING (pinned workflows still open) or DRAINED (safe to stop its workers). */
  readonly drainage: string;
  readonly status: string;
}

/** Whether a version's workers may be stopped: DRAINED once no open workflow is pinned to it. */
export async function describeVersion(client: Client, version: DeploymentVersion): Promise<VersionDrainage> {
  const { enums } = temporal.api;
  const info = await client.workflowService.describeWorkerDeploymentVersion({
    namespace: client.options.namespace,
    deploymentVersion: { deploymentName: version.deploymentName, buildId: version.buildId },
  });
  const v = info.workerDeploymentVersionInfo;
  return {
    drainage: enums.v1.VersionDrainageStatus[v?.drainageInfo?.status ?? 0].replace('VERSION_DRAINAGE_STATUS_', ''),
    status: enums.v1.WorkerDeploymentVersionStatus[v?.status ?? 0].replace('WORKER_DEPLOYMENT_VERSION_STATUS_', ''),
  };
}

/**
 * `npm start` runs one build on one machine: the loop a previous start left pinned to its own build
 * has no worker any more (it stopped with that run). Unless it already runs on this build, it is moved
 * onto it with an auto-upgrade override: its next task replays its current run on this build, so a
 * change that does not replay fails that task, as without versioning. The override lasts one run:
 * the loop's next run starts on the current version, pinned again. Not for production, where the old
 * workers stay up until their loops have moved (docs/deploys.md).
 */
export async function adoptLoopOfStoppedBuild(
  client: Client,
  workflowId: string,
  version: DeploymentVersion,
  logger: Logger,
): Promise<void> {
  const { VersioningBehavior, WorkflowExecutionStatus } = temporal.api.enums.v1;
  let info;
  try {
    info = (await client.workflow.getHandle(workflowId).describe()).raw.workflowExecutionInfo;
  } catch {
    return; // no such loop yet
  }
  const versioning = info?.versioningInfo;
  const pinnedTo = versioning?.deploymentVersion?.buildId;
  if (info?.status !== WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING) return;
  if (versioning?.behavior !== VersioningBehavior.VERSIONING_BEHAVIOR_PINNED || !pinnedTo || pinnedTo === version.buildId) return;
  await client.workflowService.updateWorkflowExecutionOptions({
    namespace: client.options.namespace,
    workflowExecution: { workflowId },
    workflowExecutionOptions: { versioningOverride: { autoUpgrade: true } },
    updateMask: { paths: ['versioning_override'] },
    identity: client.options.identity,
  });
  logger.warn({ workflowId, from: pinnedTo, to: version.buildId }, 'moved the loop of a stopped build onto this one');
}

/** Retries `call` while the server does not know the version yet (its workers have not polled). */
async function untilRegistered(version: DeploymentVersion, options: RoutingOptions, call: () => Promise<unknown>): Promise<void> {
  const deadline = Date.now() + (options.waitMs ?? 30_000);
  for (;;) {
    try {
      await call();
      return;
    } catch (err) {
      const code = grpcCode(err);
      const unknownYet = code === NOT_FOUND || code === FAILED_PRECONDITION;
      if (!unknownYet || Date.now() > deadline) {
        throw new Error(
          `could not route to worker deployment version ${canonicalVersion(version)}: ${(err as Error).message}` +
            (unknownYet ? ' (are workers of this build running and polling this namespace?)' : ''),
        );
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** The gRPC status of a failed call, whether the SDK threw it as is or wrapped it as the cause. */
function grpcCode(err: unknown): number | undefined {
  if (isGrpcServiceError(err)) return err.code;
  const cause = (err as { cause?: unknown } | undefined)?.cause;
  return isGrpcServiceError(cause) ? cause.code : undefined;
}
