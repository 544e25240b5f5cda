/**
 * Portfolios as first-class: create one from a portfolio file, change its policy, list and show them.
 * The only place a portfolio loop's workflow input is built (`loopInput`), from the stored policy, so
 * loops are started and continued by `ballast portfolio` and `npm start`, never by hand-written input.
 */
import { type Client, WorkflowUpdateFailedError } from '@temporalio/client';
import type { PortfolioPolicyStore, PolicyVersion, PortfolioSummary } from '../db/stores/portfolioPolicies';
import type { MarketDataSpec } from '../risk/marketData';
import { type PortfolioSpec, loadPolicyText } from '../risk/portfolioSpec';
import type { portfolioLoop } from '../workflows';
import { type PolicyChangeResult, changePolicyUpdate } from '../workflows/messages';
import { type PortfolioLoopInput, TASK_QUEUE, loopWorkflowId } from '../workflows/types';

/** A request the portfolio's state refuses (unknown portfolio, already created, a change the loop refused). */
export class PortfolioRefused extends Error {
  override readonly name = 'PortfolioRefused';
}

export interface PortfolioDeps {
  readonly client: Client;
  readonly policies: PortfolioPolicyStore;
  /** The workers' task queue (tests use their own). */
  readonly taskQueue?: string;
}

/** Settings of the loop that are not policy: how a process runs it. */
export interface LoopRunOptions {
  readonly monitoringIntervalMs?: number;
  readonly approvalTimeoutMs?: number;
}

export interface CreateResult {
  readonly portfolioId: string;
  readonly created: boolean;
  readonly policyVersion: number;
  readonly workflowId: string;
}

/**
 * Registers the portfolio with policy version 1 and starts its loop. An existing portfolio is refused
 * unless `ifExists` is 'keep' (npm start's demo): then its stored policy is left as it is and its
 * loop started if it is not running.
 */
export async function createPortfolio(
  deps: PortfolioDeps,
  spec: PortfolioSpec,
  opts: { readonly requestedBy: string; readonly source: string | null; readonly ifExists?: 'refuse' | 'keep' } & LoopRunOptions,
): Promise<CreateResult> {
  const created = await deps.policies.create({
    id: spec.id,
    baseCurrency: spec.baseCurrency,
    marketData: spec.marketData,
    document: spec.policy,
    requestedBy: opts.requestedBy,
    source: opts.source,
  });
  if (!created && opts.ifExists !== 'keep')
    throw new PortfolioRefused(`portfolio "${spec.id}" already exists; change its policy with \`ballast portfolio update\``);
  const active = await activePolicy(deps, spec.id);
  await ensureLoop(deps, spec.id, spec.marketData, active, opts);
  return { portfolioId: spec.id, created, policyVersion: active.version, workflowId: loopWorkflowId(spec.id) };
}

export interface UpdateResult extends PolicyChangeResult {
  readonly portfolioId: string;
}

/**
 * Writes the policy as the next version and hands it to the loop (the `changePolicy` Update; the loop
 * is started first if it is not running). The answer says whether it is in force or waits for approval.
 */
export async function updatePolicy(
  deps: PortfolioDeps,
  portfolioId: string,
  policyYaml: string,
  opts: { readonly requestedBy: string; readonly reason: string; readonly source: string | null } & LoopRunOptions,
): Promise<UpdateResult> {
  const summary = await deps.policies.summary(portfolioId);
  if (!summary) throw new PortfolioRefused(`unknown portfolio "${portfolioId}" (create it with \`ballast portfolio create\`)`);
  if (!summary.marketData) throw new PortfolioRefused(`portfolio "${portfolioId}" has no market data source`);
  const { policy } = loadPolicyText(policyYaml); // a ConfigError names the bad key before anything is written
  const version = await deps.policies.propose(portfolioId, policy, opts.requestedBy, opts.reason, opts.source);
  const handle = await ensureLoop(deps, portfolioId, summary.marketData, await activePolicy(deps, portfolioId), opts);
  try {
    const result = await handle.executeUpdate(changePolicyUpdate, {
      args: [{ version, document: policy, requestedBy: opts.requestedBy, reason: opts.reason }],
    });
    return { portfolioId, ...result };
  } catch (err) {
    if (!(err instanceof WorkflowUpdateFailedError)) throw err;
    await deps.policies.setStatus(portfolioId, version, 'REJECTED');
    throw new PortfolioRefused(`policy version ${version} refused: ${err.cause?.message ?? err.message}`);
  }
}

export interface PortfolioDetail extends PortfolioSummary {
  readonly policy: PolicyVersion | null;
  readonly versions: readonly Omit<PolicyVersion, 'document'>[];
}

export async function listPortfolios(policies: PortfolioPolicyStore): Promise<PortfolioSummary[]> {
  return policies.list();
}

export async function showPortfolio(policies: PortfolioPolicyStore, portfolioId: string): Promise<PortfolioDetail> {
  const summary = await policies.summary(portfolioId);
  if (!summary) throw new PortfolioRefused(`unknown portfolio "${portfolioId}"`);
  const history = await policies.history(portfolioId);
  return {
    ...summary,
    policy: (await policies.active(portfolioId)) ?? null,
    versions: history.map(({ document: _document, ...rest }) => rest),
  };
}

/** The loop's workflow input: the stored policy in force and the portfolio's market data. */
export function loopInput(
  portfolioId: string,
  marketData: MarketDataSpec,
  policy: { readonly version: number; readonly document: unknown },
  run: LoopRunOptions,
): PortfolioLoopInput {
  return {
    portfolioId,
    marketData,
    config: policy.document,
    policyVersion: policy.version,
    ...(run.monitoringIntervalMs !== undefined ? { monitoringIntervalMs: run.monitoringIntervalMs } : {}),
    ...(run.approvalTimeoutMs !== undefined ? { approvalTimeoutMs: run.approvalTimeoutMs } : {}),
  };
}

async function activePolicy(deps: PortfolioDeps, portfolioId: string): Promise<PolicyVersion> {
  const active = await deps.policies.active(portfolioId);
  if (!active) throw new PortfolioRefused(`portfolio "${portfolioId}" has no policy in force`);
  return active;
}

/** Starts the loop unless it is running (a running loop keeps its own state and policy). */
async function ensureLoop(
  deps: PortfolioDeps,
  portfolioId: string,
  marketData: MarketDataSpec,
  policy: PolicyVersion,
  run: LoopRunOptions,
) {
  return deps.client.workflow.start<typeof portfolioLoop>('portfolioLoop', {
    taskQueue: deps.taskQueue ?? TASK_QUEUE,
    workflowId: loopWorkflowId(portfolioId),
    workflowIdConflictPolicy: 'USE_EXISTING',
    args: [loopInput(portfolioId, marketData, policy, run)],
  });
}
