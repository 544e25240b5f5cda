/**
 * The desk commands (halt, reduce-only, resume-trading, override, revoke, pause, resume, approve,
 * reject): each sends the same validated Workflow Update the Temporal UI and the console send, so one
 * rule applies whatever the path. A refusal by the workflow is one line naming its type
 * (`refused (SeparationOfDuties): …`) and exit code 2.
 */
import { type Client, WorkflowUpdateFailedError } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { type Command } from 'commander';
import { OVERRIDABLE_LIMITS, type OverridableLimit } from '../risk/budget';
import { TRADING_SCOPE_KINDS, type TradingScopeKind, type TradingState } from '../risk/kinds';
import {
  overrideLimitUpdate,
  pauseUpdate,
  resumeUpdate,
  revokeOverrideUpdate,
  setScopedTradingStateUpdate,
  setTradingStateUpdate,
} from '../workflows/messages';
import { loopWorkflowId } from '../workflows/types';
import { TEMPORAL_VARIABLES, environmentHelp, withTemporal } from './context';
import { InvalidValue, UsageError, durationMs, number, oneOf, option, positiveInteger } from './flags';
import { printJson } from './output';

/** Sends `update` to a workflow; a refusal by its validator or handler becomes a UsageError naming the refusal's type. */
export async function sendUpdate<R, A>(client: Client, workflowId: string, update: UpdateDefinition<R, [A]>, arg: A): Promise<R> {
  try {
    return await client.workflow.getHandle(workflowId).executeUpdate(update, { args: [arg] });
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) {
      const cause = err.cause as (Error & { type?: string }) | undefined;
      throw new UsageError(`refused${cause?.type ? ` (${cause.type})` : ''}: ${cause?.message ?? err.message}`);
    }
    throw err;
  }
}

interface OperatorFlags {
  readonly portfolio: string;
  readonly by: string;
  readonly reason: string;
}

function operatorOptions(command: Command, what: string): Command {
  return command
    .requiredOption('--portfolio <id>', `the portfolio to ${what}`)
    .requiredOption('--by <name>', 'who does it; recorded in the audit trail')
    .requiredOption('--reason <text>', 'why; recorded in the audit trail')
    .addHelpText('after', environmentHelp(TEMPORAL_VARIABLES));
}

/** `halt`, `reduce-only`, `resume-trading`: the loop's setTradingState Update. */
export function tradingStateCommand(state: TradingState, effect: string): (command: Command) => void {
  return (command) =>
    operatorOptions(
      command
        .description(
          `Set the trading state of a portfolio to ${state} (${effect}) through the loop's validated setTradingState Update, ` +
            'enforced by every gate within a second; prints {"state"} as JSON.',
        )
        .addOption(
          option(
            '--scope <kind>',
            `what it applies to: ${TRADING_SCOPE_KINDS.join(', ')} (a strategy or instrument through setScopedTradingState; the strictest scope wins)`,
            oneOf(TRADING_SCOPE_KINDS),
          ).default('portfolio'),
        )
        .option('--name <name>', 'the strategy or instrument, with --scope strategy or instrument'),
      'set the trading state of',
    ).action(async (flags: OperatorFlags & { scope: TradingScopeKind; name?: string }) => {
      const request = { state, operator: flags.by, reason: flags.reason };
      if (flags.scope !== 'portfolio' && !flags.name) throw new UsageError(`--scope ${flags.scope} needs --name`);
      if (flags.scope === 'portfolio' && flags.name) throw new UsageError('--name goes with --scope strategy or instrument');
      const result = await withTemporal((client) =>
        flags.scope === 'portfolio'
          ? sendUpdate(client, loopWorkflowId(flags.portfolio), setTradingStateUpdate, request)
          : sendUpdate(client, loopWorkflowId(flags.portfolio), setScopedTradingStateUpdate, {
              ...request,
              scope: { kind: flags.scope, name: flags.name! },
            }),
      );
      await printJson(result);
    });
}

/** `pause`, `resume`: the loop's pauseLoop / resumeLoop Update. */
export function loopPauseCommand(paused: boolean): (command: Command) => void {
  return (command) =>
    operatorOptions(
      command.description(
        paused
          ? 'Pause a portfolio\'s control loop (no cycle runs; decisions are still applied) through the pauseLoop Update; prints {"paused"} as JSON.'
          : 'Resume a paused control loop through the resumeLoop Update (a cycle runs at once); prints {"paused"} as JSON.',
      ),
      paused ? 'pause' : 'resume',
    ).action(async (flags: OperatorFlags) => {
      const request = { operator: flags.by, reason: flags.reason };
      const result = await withTemporal((client) =>
        sendUpdate(client, loopWorkflowId(flags.portfolio), paused ? pauseUpdate : resumeUpdate, request),
      );
      await printJson(result);
    });
}

/** An ISO-8601 time, or a duration from now ("30m", "2h"), as an ISO-8601 time. */
export function expiryAt(text: string, nowMs = Date.now()): string {
  if (/^\d{4}-\d{2}-\d{2}T/.test(text) && Number.isFinite(Date.parse(text))) return new Date(Date.parse(text)).toISOString();
  try {
    return new Date(nowMs + durationMs(text)).toISOString();
  } catch {
    throw new InvalidValue('must be an ISO-8601 time (2026-12-01T18:00:00Z) or a duration from now (30m, 2h, 1d)');
  }
}

interface OverrideFlags extends OperatorFlags {
  readonly field: OverridableLimit;
  readonly value: number;
  readonly strategy?: string;
  readonly asset?: string;
  readonly requestedBy: string;
  readonly expires: string;
}

/** `override`: the loop's overrideLimit Update, with requester and a different approver. */
export function overrideCommand(command: Command): void {
  operatorOptions(
    command
      .description(
        'Override one limit of a portfolio until an expiry, through the loop\'s validated overrideLimit Update; prints {"overrideId"} as JSON. ' +
          'Four eyes: --by (the approver) must be someone other than --requested-by.',
      )
      .addOption(option('--field <limit>', `the limit: ${OVERRIDABLE_LIMITS.join(', ')}`, oneOf(OVERRIDABLE_LIMITS)).makeOptionMandatory())
      .addOption(option('--value <amount>', 'the new limit, in currency', number).makeOptionMandatory())
      .option('--strategy <name>', 'only this strategy (gross/net limits, or a position limit with --asset)')
      .option('--asset <name>', 'only this asset (position limits)')
      .requiredOption('--requested-by <name>', 'who asked for the override')
      .addOption(
        option('--expires <when>', 'when it falls away: an ISO-8601 time or a duration from now (30m, 2h)', expiryAt).makeOptionMandatory(),
      ),
    'override a limit of',
  ).action(async (flags: OverrideFlags) => {
    const request = {
      field: flags.field,
      value: flags.value,
      ...(flags.strategy !== undefined && { strategy: flags.strategy }),
      ...(flags.asset !== undefined && { asset: flags.asset }),
      reason: flags.reason,
      requestedBy: flags.requestedBy,
      approver: flags.by,
      expiresAt: flags.expires,
    };
    const result = await withTemporal((client) => sendUpdate(client, loopWorkflowId(flags.portfolio), overrideLimitUpdate, request));
    await printJson(result);
  });
}

/** `revoke`: the loop's revokeOverride Update. */
export function revokeCommand(command: Command): void {
  operatorOptions(
    command
      .description(
        'End a limit override before it expires, through the loop\'s validated revokeOverride Update; prints {"revoked"} as JSON. ' +
          'An override that is not active (unknown id, expired, already revoked) is refused.',
      )
      .addOption(option('--override <id>', 'the override id (printed by `ballast override`)', positiveInteger).makeOptionMandatory()),
    'revoke an override of',
  ).action(async (flags: OperatorFlags & { override: number }) => {
    const result = await withTemporal((client) =>
      sendUpdate(client, loopWorkflowId(flags.portfolio), revokeOverrideUpdate, {
        overrideId: flags.override,
        operator: flags.by,
        reason: flags.reason,
      }),
    );
    await printJson(result);
  });
}
