/**
 * `ballast load`: drive a running gate with a closed-loop request mix and print throughput and HDR
 * latency percentiles (µs) as JSON on stdout; progress on stderr.
 */
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { Side } from '../../grpc/generated/ballast/gate/v1/gate';
import { parseMix, runLoad } from '../../grpc/load';
import { duration } from '../../risk/config';
import { parseFlags, requireFlag } from '../args';
import { UsageError } from '../main';

export const summary = 'load-test a gate: --target host:port --concurrency N --duration 10s --mix evaluate=80,size=20';

const FLAGS = {
  target: 'string',
  concurrency: 'string',
  duration: 'string',
  warmup: 'string',
  mix: 'string',
  connections: 'string',
  portfolio: 'string',
  strategy: 'string',
  instrument: 'string',
  side: 'string',
  quantity: 'string',
  price: 'string',
  'tls-ca': 'string',
  'tls-cert': 'string',
  'tls-key': 'string',
  deadline: 'string',
} as const;

export async function run(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, FLAGS);
  if (flags._.length > 0) throw new UsageError(`unexpected argument "${flags._[0]}"`);
  const side = (flags.side ?? 'buy').toLowerCase();
  if (side !== 'buy' && side !== 'sell') throw new UsageError(`--side must be buy or sell, got "${flags.side}"`);
  let mix;
  try {
    mix = parseMix(flags.mix ?? 'evaluate=100');
  } catch (err) {
    throw new UsageError(`--mix: ${(err as Error).message}`);
  }
  const report = await runLoad(
    {
      target: requireFlag(flags.target, 'target'),
      concurrency: positive(flags.concurrency ?? '32', 'concurrency', true),
      connections: positive(flags.connections ?? '1', 'connections', true),
      durationMs: duration(flags.duration ?? '10s', '--duration'),
      warmupMs: duration(flags.warmup ?? '1s', '--warmup'),
      deadlineMs: duration(flags.deadline ?? '5s', '--deadline'),
      mix,
      order: {
        portfolioId: requireFlag(flags.portfolio, 'portfolio'),
        strategy: flags.strategy ?? 'trend',
        instrument: flags.instrument ?? 'AAPL',
        side: side === 'buy' ? Side.SIDE_BUY : Side.SIDE_SELL,
        quantity: positive(flags.quantity ?? '1', 'quantity', false),
        price: positive(flags.price ?? '100', 'price', false),
      },
      credentials: credentials(flags),
    },
    (done) => process.stderr.write(`\rload: ${done} requests`),
  );
  process.stderr.write('\n');
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  return Object.keys(report.errors).length > 0 && report.requests === 0 ? 1 : 0;
}

function positive(value: string, name: string, integer: boolean): number {
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n) || (integer && !Number.isInteger(n)))
    throw new UsageError(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got "${value}"`);
  return n;
}

function credentials(flags: Partial<Record<keyof typeof FLAGS, string>>): grpc.ChannelCredentials | undefined {
  if (!flags['tls-ca']) {
    if (flags['tls-cert'] || flags['tls-key']) throw new UsageError('--tls-cert/--tls-key need --tls-ca');
    return undefined;
  }
  if ((flags['tls-cert'] === undefined) !== (flags['tls-key'] === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  return grpc.credentials.createSsl(
    readFileSync(flags['tls-ca']),
    flags['tls-key'] ? readFileSync(flags['tls-key']) : null,
    flags['tls-cert'] ? readFileSync(flags['tls-cert']) : null,
  );
}
