/**
 * `ballast load`: drive a running gate with a closed-loop request mix and print throughput and HDR
 * latency percentiles (µs) as JSON on stdout; progress on stderr.
 */
import type { Command } from 'commander';
import { Side } from '../../grpc/generated/ballast/gate/v1/gate';
import type * as grpc from '@grpc/grpc-js';
import { type LoadKind, type LoadOptions, type LoadReport, orderFromBudget, parseMix, runLoad, runStreamLoad } from '../../grpc/load';
import { type Check, InvalidValue, UsageError, durationMs, oneOf, option, positiveInteger, positiveNumber } from '../flags';
import { replicaAddresses } from '../../grpc/ownerRouting';
import { type GateClientFlags, addGateClientFlags, gateClientCredentials } from '../gateClientFlags';
import { printJson } from '../output';

interface LoadFlags extends GateClientFlags {
  readonly target: string;
  /** Undefined: route when --target lists several replicas. */
  readonly ownerRouting?: boolean;
  readonly portfolio: string;
  readonly concurrency: number;
  readonly connections: number;
  readonly stream?: boolean;
  readonly batch?: number;
  readonly duration: number;
  readonly warmup: number;
  readonly deadline: number;
  readonly mix: Partial<Record<LoadKind, number>>;
  /** Undefined (with instrument and price): taken from the portfolio's budget. */
  readonly strategy?: string;
  readonly instrument?: string;
  readonly side: 'buy' | 'sell';
  readonly quantity: number;
  readonly price?: number;
}

const mix: Check<Partial<Record<LoadKind, number>>> = (text) => {
  try {
    return parseMix(text);
  } catch {
    throw new InvalidValue('must be weights like evaluate=80,size=20 with at least one positive');
  }
};

const side: Check<'buy' | 'sell'> = (text) => oneOf(['buy', 'sell'] as const)(text.toLowerCase());

export function define(command: Command): void {
  command
    .description(
      'Load-test a running gate: keep --concurrency calls in flight over --connections channels for --duration ' +
        'after an unrecorded --warmup, then print throughput and latency percentiles (µs, successful calls) as JSON. ' +
        'Fails (exit code 1) when no call succeeded. Against gate HA replicas (`ballast gate --ha`), give them all to ' +
        "--target: the calls then go to the portfolio's owner replica, learned from the first answer (docs/gate-ha.md); " +
        '--no-owner-routing calls the targets as given instead (channels spread over them), e.g. to measure the forwarded path. ' +
        '--stream sends the orders over one EvaluateTradeStream instead (--concurrency orders unanswered), --batch <n> over ' +
        'one EvaluateTradeBatchStream, n orders a message.',
    )
    .requiredOption('--target <host:port>', 'the gate to call, or a comma list of its HA replicas (host:port,host:port,…)')
    .option('--owner-routing', "call the portfolio's owner replica, learned from the first answer (default with several --target)")
    .option('--no-owner-routing', 'call the targets as given, channels spread over them (default with one --target)')
    .requiredOption('--portfolio <id>', 'the portfolio of the orders')
    .addOption(option('--concurrency <n>', 'calls in flight', positiveInteger).default(32))
    .addOption(option('--connections <n>', 'gRPC channels the calls are spread over', positiveInteger).default(1))
    .option('--stream', 'EvaluateTrade over one EvaluateTradeStream: --concurrency orders unanswered, one order a message')
    .addOption(option('--batch <n>', 'EvaluateTrade over one EvaluateTradeBatchStream, n orders a message', positiveInteger))
    .addOption(option('--duration <duration>', 'how long to record', durationMs).default(durationMs('10s'), '10s'))
    .addOption(option('--warmup <duration>', 'how long to run before recording', durationMs).default(durationMs('1s'), '1s'))
    .addOption(option('--deadline <duration>', 'deadline of each call', durationMs).default(durationMs('5s'), '5s'))
    .addOption(
      option('--mix <weights>', 'relative weights of EvaluateTrade and SizePosition calls', mix).default({ evaluate: 100 }, 'evaluate=100'),
    )
    .option('--strategy <name>', "the strategy of the orders (default: the first pair of the portfolio's budget)")
    .option('--instrument <symbol>', "the instrument of the orders (default: the first pair of the portfolio's budget)")
    .addOption(option('--side <side>', 'buy or sell', side).default('buy'))
    .addOption(option('--quantity <n>', 'order quantity', positiveNumber).default(1))
    .addOption(option('--price <price>', "order price (default: the pair's reference price in the budget)", positiveNumber));
  addGateClientFlags(command).action(load);
}

async function load(flags: LoadFlags): Promise<void> {
  const streamed = flags.stream === true || flags.batch !== undefined;
  if (streamed) checkStreamFlags(flags);
  const credentials = gateClientCredentials(flags);
  const order = await loadOrder(flags, credentials);
  const shown = progress();
  const options: LoadOptions = {
    target: flags.target,
    routeToOwner: flags.ownerRouting ?? flags.target.includes(','),
    concurrency: flags.concurrency,
    connections: flags.connections,
    durationMs: flags.duration,
    warmupMs: flags.warmup,
    deadlineMs: flags.deadline,
    mix: flags.mix,
    order: {
      ...order,
      portfolioId: flags.portfolio,
      side: flags.side === 'buy' ? Side.SIDE_BUY : Side.SIDE_SELL,
      quantity: flags.quantity,
    },
    credentials,
  };
  const report = await (streamed
    ? runStreamLoad({ ...options, inFlight: flags.concurrency, batch: flags.batch }, (done) => shown.update(done))
    : runLoad(options, (done) => shown.update(done)));
  shown.end();
  await printJson(report);
  warnIfAllDenied(report);
  const failed = Object.values(report.errors).reduce((sum, n) => sum + n, 0);
  if (report.requests > 0 && failed === report.requests) {
    const codes = Object.entries(report.errors).map(([code, n]) => `${code} ×${n}`);
    throw new Error(`no call succeeded (${codes.join(', ')})`);
  }
}

/**
 * The orders' strategy, instrument and price: as given, or, for what was left out, the first matching
 * pair of the portfolio's current budget at its reference price (said on stderr).
 */
async function loadOrder(
  flags: LoadFlags,
  credentials: grpc.ChannelCredentials | undefined,
): Promise<{ strategy: string; instrument: string; price: number }> {
  const { strategy, instrument, price } = flags;
  if (strategy !== undefined && instrument !== undefined && price !== undefined) return { strategy, instrument, price };
  const target = replicaAddresses(flags.target)[0];
  const chosen = await orderFromBudget(target, credentials, flags.portfolio, { strategy, instrument, price }).catch((err: Error) => {
    throw new UsageError(
      `could not take the orders from ${flags.portfolio}'s budget at ${target} (${err.message}): give --strategy, --instrument and --price`,
    );
  });
  process.stderr.write(
    `load: orders ${chosen.strategy}/${chosen.instrument} @ ${chosen.price} from budget v${chosen.budgetVersion} of ${flags.portfolio}\n`,
  );
  return { strategy: chosen.strategy, instrument: chosen.instrument, price: chosen.price };
}

/** Every order denied measures the denial path only: say why, on stderr, beside the JSON. */
function warnIfAllDenied(report: LoadReport): void {
  if ((report.decisions.DENY ?? 0) === 0 || (report.decisions.APPROVE ?? 0) > 0) return;
  const reasons = Object.entries(report.denialReasons)
    .sort((a, b) => b[1] - a[1])
    .map(([reason, n]) => `${reason} ×${n}`);
  process.stderr.write(
    `load: every order was denied (${reasons.join(', ')}): check --strategy, --instrument, --price and --quantity against the portfolio's budget\n`,
  );
}

/** --stream / --batch: one trade stream to one gate, EvaluateTrade only. */
function checkStreamFlags(flags: LoadFlags): void {
  if (flags.target.includes(','))
    throw new UsageError('--stream and --batch take one --target: a stream is opened to the owner replica itself');
  if ((flags.mix.size ?? 0) > 0) throw new UsageError('--stream and --batch send EvaluateTrade orders only: drop --mix');
  if (flags.connections !== 1) throw new UsageError('--stream and --batch use one connection: drop --connections');
}

/** Requests done so far, on stderr: one line rewritten in place on a terminal, a line every 5 s in a log. */
function progress(): { update(done: number): void; end(): void } {
  const tty = process.stderr.isTTY === true;
  let lastLineAt = 0;
  return {
    update(done) {
      if (tty) process.stderr.write(`\rload: ${done} requests`);
      else if (Date.now() - lastLineAt >= 5_000) {
        lastLineAt = Date.now();
        process.stderr.write(`load: ${done} requests\n`);
      }
    },
    end() {
      if (tty) process.stderr.write('\n');
    },
  };
}
