/**
 * Flag validation of `ballast load`: user errors are UsageErrors, caught before any call is made. And
 * the orders' strategy, instrument and price, when not given, come from the portfolio's budget.
 */
import * as grpc from '@grpc/grpc-js';
import { UsageError } from '../../../../cli/flags';
import {
  Decision,
  type EvaluateTradeRequest,
  EvaluateTradeResponse,
  GateServiceService,
  GetCurrentBudgetResponse,
  type Order,
} from '../../../../grpc/generated/ballast/gate/v1/gate';
import { parseMix } from '../../../../grpc/load';
import { runCli } from '../../../support/cli';

test.each([
  [['--portfolio', 'p'], /required option '--target <host:port>' not specified/],
  [['--target', 'x:1'], /required option '--portfolio <id>' not specified/],
  [['--target', 'x:1', '--portfolio', 'p', '--concurrency', '0'], /--concurrency must be a positive integer, got "0"/],
  [['--target', 'x:1', '--portfolio', 'p', '--side', 'short'], /--side must be one of buy, sell/],
  [['--target', 'x:1', '--portfolio', 'p', '--mix', 'cancel=5'], /--mix must be weights like evaluate=80,size=20/],
  [['--target', 'x:1', '--portfolio', 'p', '--duration', '0s'], /--duration must be a positive duration/],
  [['--target', 'x:1', '--portfolio', 'p', '--tls-cert', 'c'], /need --tls-ca/],
  [['--target', 'x:1', '--portfolio', 'p', '--certs-dir', '/nonexistent'], /no ca.crt in \/nonexistent: run `ballast certs`/],
  [['--target', 'x:1', '--portfolio', 'p', '--plaintext', '--tls-ca', 'ca'], /--plaintext and --tls-\* exclude each other/],
  [['--target', 'x:1', '--portfolio', 'p', '--batch', '0'], /--batch must be a positive integer, got "0"/],
  [['--target', 'x:1,y:2', '--portfolio', 'p', '--plaintext', '--stream'], /--stream and --batch take one --target/],
  [['--target', 'x:1', '--portfolio', 'p', '--plaintext', '--batch', '50', '--mix', 'size=1'], /EvaluateTrade orders only: drop --mix/],
  [['--target', 'x:1', '--portfolio', 'p', '--plaintext', '--stream', '--connections', '2'], /use one connection: drop --connections/],
])('ballast load %j → UsageError', async (argv, message) => {
  const err = await runCli(['load', ...argv]).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(UsageError);
  expect((err as Error).message).toMatch(message);
});

test('parseMix (behind --mix) reads weights and rejects nonsense', () => {
  expect(parseMix('evaluate=80,size=20')).toEqual({ evaluate: 80, size: 20 });
  expect(parseMix('size')).toEqual({ size: 1 });
  expect(() => parseMix('evaluate=0')).toThrow(/at least one positive weight/);
  expect(() => parseMix('evaluate=-1')).toThrow(/must be evaluate=/);
});

describe('orders from the budget', () => {
  let server: grpc.Server | undefined;
  afterEach(() => server?.forceShutdown());

  /** A stand-in gate with a budget of three pairs (the first without room); it approves and keeps the orders it saw. */
  async function gate(): Promise<{ target: string; seen: Order[] }> {
    const seen: Order[] = [];
    const asset = (strategy: string, a: string, maxPositionNotional: number, referencePrice: number) => ({
      strategy,
      asset: a,
      maxPositionNotional,
      referencePrice,
    });
    const budget = GetCurrentBudgetResponse.fromPartial({
      budgetVersion: 7,
      budget: {
        assets: [asset('core', 'CASH', 0, 1), asset('core', 'US_EQUITY', 1e6, 412.5), asset('macro', 'GOLD', 2e5, 1_980)],
      },
    });
    server = new grpc.Server();
    server.addService(GateServiceService, {
      getCurrentBudget: (call: grpc.ServerUnaryCall<{ portfolioId: string }, unknown>, cb: grpc.sendUnaryData<GetCurrentBudgetResponse>) =>
        call.request.portfolioId === 'demo' ? cb(null, budget) : cb({ code: grpc.status.FAILED_PRECONDITION, details: 'no budget' }),
      evaluateTrade: (call: grpc.ServerUnaryCall<EvaluateTradeRequest, unknown>, cb: grpc.sendUnaryData<EvaluateTradeResponse>) => {
        seen.push(call.request.order!);
        cb(null, EvaluateTradeResponse.fromPartial({ decision: Decision.DECISION_APPROVE }));
      },
    });
    const port = await new Promise<number>((res, rej) =>
      server!.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? rej(err) : res(p))),
    );
    return { target: `127.0.0.1:${port}`, seen };
  }

  const load = (target: string, ...more: string[]) =>
    runCli(['load', '--target', target, '--plaintext', '--duration', '200ms', '--warmup', '50ms', '--concurrency', '2', ...more]);

  test('none given: the first pair with room, at its reference price, said on stderr', async () => {
    const { target, seen } = await gate();
    const { stderr } = await load(target, '--portfolio', 'demo');
    expect(new Set(seen.map((o) => `${o.strategy}/${o.instrument}@${o.price}`))).toEqual(new Set(['core/US_EQUITY@412.5']));
    expect(stderr).toContain('load: orders core/US_EQUITY @ 412.5 from budget v7 of demo');
  });

  test('a strategy given: its first pair; a price given: that price', async () => {
    const { target, seen } = await gate();
    await load(target, '--portfolio', 'demo', '--strategy', 'macro', '--price', '2000');
    expect(new Set(seen.map((o) => `${o.strategy}/${o.instrument}@${o.price}`))).toEqual(new Set(['macro/GOLD@2000']));
  });

  test('everything given: no budget is read; no budget to read: a UsageError naming the flags', async () => {
    const { target, seen } = await gate();
    await load(target, '--portfolio', 'other', '--strategy', 's', '--instrument', 'i', '--price', '1');
    expect(seen.length).toBeGreaterThan(0);
    const err = await load(target, '--portfolio', 'other').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(/could not take the orders from other's budget .*give --strategy, --instrument and --price/);
  });
});
