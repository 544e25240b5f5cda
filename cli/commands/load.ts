/**
 * `ballast load`: drive a running gate with a closed-loop request mix and print throughput and HDR
 * latency percentiles (µs) as JSON on stdout; progress on stderr.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { Command } from 'commander';
import { Side } from '../../grpc/generated/ballast/gate/v1/gate';
import { type LoadKind, parseMix, runLoad } from '../../grpc/load';
import { DEMO_OMS_IDENTITY, certsDir } from '../../infra/certs';
import { type Check, InvalidValue, UsageError, durationMs, oneOf, option, positiveInteger, positiveNumber } from '../flags';
import { printJson } from '../output';

interface LoadFlags {
  readonly target: string;
  /** Undefined: route when --target lists several replicas. */
  readonly ownerRouting?: boolean;
  readonly portfolio: string;
  readonly concurrency: number;
  readonly connections: number;
  readonly duration: number;
  readonly warmup: number;
  readonly deadline: number;
  readonly mix: Partial<Record<LoadKind, number>>;
  readonly strategy: string;
  readonly instrument: string;
  readonly side: 'buy' | 'sell';
  readonly quantity: number;
  readonly price: number;
  readonly tlsCa?: string;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly plaintext: boolean;
  readonly certsDir: string;
  readonly as: string;
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
        '--no-owner-routing calls the targets as given instead (channels spread over them), e.g. to measure the forwarded path.',
    )
    .requiredOption('--target <host:port>', 'the gate to call, or a comma list of its HA replicas (host:port,host:port,…)')
    .option('--owner-routing', "call the portfolio's owner replica, learned from the first answer (default with several --target)")
    .option('--no-owner-routing', 'call the targets as given, channels spread over them (default with one --target)')
    .requiredOption('--portfolio <id>', 'the portfolio of the orders')
    .addOption(option('--concurrency <n>', 'calls in flight', positiveInteger).default(32))
    .addOption(option('--connections <n>', 'gRPC channels the calls are spread over', positiveInteger).default(1))
    .addOption(option('--duration <duration>', 'how long to record', durationMs).default(durationMs('10s'), '10s'))
    .addOption(option('--warmup <duration>', 'how long to run before recording', durationMs).default(durationMs('1s'), '1s'))
    .addOption(option('--deadline <duration>', 'deadline of each call', durationMs).default(durationMs('5s'), '5s'))
    .addOption(
      option('--mix <weights>', 'relative weights of EvaluateTrade and SizePosition calls', mix).default({ evaluate: 100 }, 'evaluate=100'),
    )
    .option('--strategy <name>', 'the strategy of the orders', 'trend')
    .option('--instrument <symbol>', 'the instrument of the orders', 'AAPL')
    .addOption(option('--side <side>', 'buy or sell', side).default('buy'))
    .addOption(option('--quantity <n>', 'order quantity', positiveNumber).default(1))
    .addOption(option('--price <price>', 'order price', positiveNumber).default(100))
    .option('--tls-ca <file>', "call over TLS, trusting this CA (PEM) (default: the local CA's files, see --as)")
    .option('--tls-cert <file>', 'client certificate (PEM) for mTLS; needs --tls-ca and --tls-key')
    .option('--tls-key <file>', 'private key (PEM) of --tls-cert')
    .addOption(
      option('--certs-dir <dir>', 'the local CA made by `ballast start` / `ballast gate`').env('BALLAST_CERTS_DIR').default(certsDir()),
    )
    .option(
      '--as <identity>',
      'without --tls-ca: call as this identity of the local CA (its certificate in --certs-dir)',
      DEMO_OMS_IDENTITY,
    )
    .option('--plaintext', 'call without TLS (a development gate on loopback started in code, e.g. the benchmark)', false)
    .action(load);
}

async function load(flags: LoadFlags): Promise<void> {
  const report = await runLoad(
    {
      target: flags.target,
      routeToOwner: flags.ownerRouting ?? flags.target.includes(','),
      concurrency: flags.concurrency,
      connections: flags.connections,
      durationMs: flags.duration,
      warmupMs: flags.warmup,
      deadlineMs: flags.deadline,
      mix: flags.mix,
      order: {
        portfolioId: flags.portfolio,
        strategy: flags.strategy,
        instrument: flags.instrument,
        side: flags.side === 'buy' ? Side.SIDE_BUY : Side.SIDE_SELL,
        quantity: flags.quantity,
        price: flags.price,
      },
      credentials: credentials(flags),
    },
    (done) => process.stderr.write(`\rload: ${done} requests`),
  );
  process.stderr.write('\n');
  await printJson(report);
  const failed = Object.values(report.errors).reduce((sum, n) => sum + n, 0);
  if (report.requests > 0 && failed === report.requests) {
    const codes = Object.entries(report.errors).map(([code, n]) => `${code} ×${n}`);
    throw new Error(`no call succeeded (${codes.join(', ')})`);
  }
}

function credentials(flags: LoadFlags): grpc.ChannelCredentials | undefined {
  if (flags.plaintext) {
    if (flags.tlsCa || flags.tlsCert || flags.tlsKey) throw new UsageError('--plaintext and --tls-* exclude each other');
    return undefined;
  }
  if (!flags.tlsCa) {
    if (flags.tlsCert || flags.tlsKey) throw new UsageError('--tls-cert/--tls-key need --tls-ca');
    const file = (name: string): Buffer => {
      const path = join(flags.certsDir, name);
      if (!existsSync(path))
        throw new UsageError(
          `no ${name} in ${flags.certsDir}: run \`ballast certs\` (or --issue ${flags.as}), or pass --tls-ca/--tls-cert/--tls-key`,
        );
      return readFileSync(path);
    };
    return grpc.credentials.createSsl(file('ca.crt'), file(`${flags.as}.key`), file(`${flags.as}.crt`));
  }
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  return grpc.credentials.createSsl(
    readFileSync(flags.tlsCa),
    flags.tlsKey ? readFileSync(flags.tlsKey) : null,
    flags.tlsCert ? readFileSync(flags.tlsCert) : null,
  );
}
