/**
 * `ballast oms --portfolio ID [--gate HOST:PORT[,HOST:PORT…]] [--after N] [TLS flags]`: the reference OMS
 * (processes/referenceOms.ts) against a running gate: it follows the portfolio's rebalancing plans and
 * executes each one through SizePosition, EvaluateTrade and ReportFill with simulated fills, printing
 * one JSON line per plan. Given several gate HA replicas, it calls the portfolio's owner replica.
 * It calls over mTLS as the local CA's demo OMS by default, as `ballast load` does (cli/gateClientFlags.ts).
 */
import type { Command } from 'commander';
import { replicaAddresses } from '../../grpc/ownerRouting';
import { startReferenceOms } from '../../processes/referenceOms';
import { integer, option } from '../flags';
import { type GateClientFlags, addGateClientFlags, gateClientCredentials } from '../gateClientFlags';
import { writeOut } from '../output';

export function define(command: Command): void {
  command
    .description(
      "Run the reference OMS: follow a portfolio's rebalancing plans on a gate (WatchRebalancePlans), execute each " +
        'open plan (SizePosition, EvaluateTrade, simulated partial fills, ReportFill, AckRebalancePlan) and print one ' +
        'JSON line per plan with the gross exposure after it and its drift from target. Runs until Ctrl-C. Given several ' +
        "gate HA replicas (--gate a,b,c), the trade calls go to the portfolio's owner replica (docs/gate-ha.md).",
    )
    .requiredOption('--portfolio <id>', 'the portfolio whose plans to execute')
    .option('--gate <address>', 'the gate (host:port), or a comma list of its HA replicas', '127.0.0.1:50051')
    .addOption(
      option('--after <sequence>', 'resume after this plan sequence (0 = every plan)', integer(0, Number.MAX_SAFE_INTEGER)).default(0),
    );
  addGateClientFlags(command).action(async (flags: GateClientFlags & { portfolio: string; gate: string; after: number }) => {
    const [gateAddress, ...others] = replicaAddresses(flags.gate);
    const oms = startReferenceOms({
      gateAddress: gateAddress ?? flags.gate,
      gateAddresses: others.length > 0 ? others : undefined,
      credentials: gateClientCredentials(flags),
      portfolioId: flags.portfolio,
      afterSequence: flags.after,
      onReport: (report) => void writeOut(`${JSON.stringify(report)}\n`),
      onError: (err) => process.stderr.write(`[oms] ${err.message}; reconnecting\n`),
    });
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await oms.stop();
    process.stderr.write(`[oms] stopped after plan sequence ${oms.cursor} (resume with --after ${oms.cursor})\n`);
  });
}
