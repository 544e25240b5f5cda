/**
 * What one fenced group of gate HA decisions costs to commit (an HA owner's answers wait for it;
 * docs/gate-ha.md), by the way it is written, in a scratch database, interleaved by round:
 *
 * - statement: one `INSERT … SELECT FROM unnest(…)` with the lease check in the same statement, the
 *   group as nineteen array parameters (`insertFencedByPortfolio`, the way before 2026-11-30 and the
 *   fallback since);
 * - fenced COPY: `SELECT ballast_gate_fence(…); COPY …` in one simple query with the rows behind it,
 *   the group as `COPY` text lines: one round trip (`insertFenced`).
 *
 * Groups of `EAGER_GROUP_RECORDS` rows (as under load), one at a time. Printed per mode: wall time per
 * group (p50, p90, mean), the Postgres backend's CPU per row and this process's CPU per row (building
 * the group, the driver), and the ratios fenced COPY / statement of the medians over rounds.
 */
import { dropDatabase } from '../db/migrate';
import { scratchDatabase } from './scratchDatabase';
import { createPool } from '../db/pool';
import { type DecisionRecord, GateDecisionsStore } from '../db/stores/gateDecisions';
import { GateLeaseStore } from '../db/stores/gateLeases';
import { PortfolioStore } from '../db/stores/portfolios';
import { EAGER_GROUP_RECORDS } from '../grpc/spool';
import { processCpuAvailable, processCpuMs } from './processCpu';

const GROUPS = Number(process.env.HA_FENCE_GROUPS ?? 1_500);
const ROUNDS = Number(process.env.HA_FENCE_ROUNDS ?? 4);
const WARMUP_GROUPS = 300;
const REPLICA = 'bench-replica';
const PORTFOLIO = 'bench-fence';

interface Mode {
  readonly name: string;
  write(store: GateDecisionsStore, rows: readonly DecisionRecord[], tokens: ReadonlyMap<string, number>): Promise<Set<string>>;
}
const MODES: readonly Mode[] = [
  { name: 'statement', write: (store, rows, tokens) => store.insertFencedByPortfolio(REPLICA, rows, tokens) },
  { name: 'fenced COPY', write: (store, rows, tokens) => store.insertFenced(REPLICA, rows, tokens) },
];

interface Round {
  readonly p50Us: number;
  readonly p90Us: number;
  readonly meanUs: number;
  /** NaN where /proc is not there. */
  readonly postgresUsPerRow: number;
  readonly clientUsPerRow: number;
}

export async function run(): Promise<void> {
  const databaseUrl = await scratchDatabase('fence');
  // One connection: its backend is the one whose CPU is read.
  const pool = createPool(databaseUrl, 1);
  try {
    await new PortfolioStore(pool).ensure(PORTFOLIO);
    const token = await new GateLeaseStore(pool).acquire(PORTFOLIO, REPLICA, 'localhost:0', 3_600_000, null);
    if (token === undefined) throw new Error('the bench replica could not take its lease');
    const tokens = new Map([[PORTFOLIO, token]]);
    const { rows } = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const backend = rows[0].pid;
    const store = new GateDecisionsStore(pool);
    console.log(`gate HA fenced commit: groups of ${EAGER_GROUP_RECORDS} rows, ${GROUPS} groups per mode and round, ${ROUNDS} rounds`);
    const results = new Map<string, Round[]>(MODES.map((m) => [m.name, []]));
    for (let round = 1; round <= ROUNDS; round++) {
      // Each round starts one mode later, so neither always runs first.
      for (let i = 0; i < MODES.length; i++) {
        const mode = MODES[(i + round - 1) % MODES.length];
        const r = await measure(mode, store, tokens, backend);
        results.get(mode.name)!.push(r);
        console.log(`  round ${round} ${mode.name.padEnd(12)} ${roundLine(r)}`);
      }
    }
    const medianOf = (name: string, f: (r: Round) => number): number => median(results.get(name)!.map(f));
    for (const m of MODES) {
      console.log(
        `  ${m.name.padEnd(20)} median over rounds: ${medianOf(m.name, (r) => r.p50Us).toFixed(0)} µs p50 per group, ` +
          `postgres ${medianOf(m.name, (r) => r.postgresUsPerRow).toFixed(1)} µs/row, client ${medianOf(m.name, (r) => r.clientUsPerRow).toFixed(1)} µs/row`,
      );
    }
    const ratio = (f: (r: Round) => number): string => (medianOf('fenced COPY', f) / medianOf('statement', f)).toFixed(2);
    console.log(
      `  ratio fenced COPY / statement: p50 per group ${ratio((r) => r.p50Us)}×, mean ${ratio((r) => r.meanUs)}×, ` +
        `postgres CPU per row ${ratio((r) => r.postgresUsPerRow)}×, client CPU per row ${ratio((r) => r.clientUsPerRow)}×`,
    );
  } finally {
    await pool.end();
    await dropDatabase(databaseUrl);
  }
}

async function measure(mode: Mode, store: GateDecisionsStore, tokens: ReadonlyMap<string, number>, backend: number): Promise<Round> {
  for (let g = 0; g < WARMUP_GROUPS; g++) await mode.write(store, group(), tokens);
  const wallUs: number[] = [];
  const pg0 = processCpuAvailable() ? processCpuMs(backend) : NaN;
  const cpu0 = process.cpuUsage();
  for (let g = 0; g < GROUPS; g++) {
    const rows = group();
    const t0 = process.hrtime.bigint();
    const held = await mode.write(store, rows, tokens);
    wallUs.push(Number(process.hrtime.bigint() - t0) / 1000);
    if (!held.has(PORTFOLIO)) throw new Error(`${mode.name}: the bench's lease was refused`);
  }
  const cpu = process.cpuUsage(cpu0);
  const rows = GROUPS * EAGER_GROUP_RECORDS;
  wallUs.sort((a, b) => a - b);
  return {
    p50Us: wallUs[Math.floor(wallUs.length / 2)],
    p90Us: wallUs[Math.floor(wallUs.length * 0.9)],
    meanUs: wallUs.reduce((a, b) => a + b, 0) / wallUs.length,
    postgresUsPerRow: ((processCpuAvailable() ? processCpuMs(backend) : NaN) - pg0) * (1000 / rows),
    clientUsPerRow: (cpu.user + cpu.system) / rows,
  };
}

let seq = 0;
/** A group of approvals as the gate records them (distinct decision and client order ids). */
function group(): DecisionRecord[] {
  return Array.from({ length: EAGER_GROUP_RECORDS }, () => {
    const n = ++seq;
    return {
      decisionId: `fence-${process.pid}-${n}`,
      decidedAtMs: Date.now(),
      rpc: 'EvaluateTrade',
      caller: 'oms-bench',
      portfolioId: PORTFOLIO,
      strategy: 'core',
      instrument: 'US_EQUITY',
      side: 'BUY',
      quantity: 10,
      price: 125.67,
      clientOrderId: `order-${n}`,
      decision: 'APPROVE',
      approvedQuantity: 10,
      reasons: [],
      detail: 'approved: within every limit',
      budgetVersion: 3,
      tradingState: 'ACTIVE',
      latencyUs: 42,
    };
  });
}

const roundLine = (r: Round): string =>
  `${r.p50Us.toFixed(0).padStart(6)} µs p50 per group, p90 ${r.p90Us.toFixed(0)}, mean ${r.meanUs.toFixed(0)}; ` +
  `postgres ${r.postgresUsPerRow.toFixed(1)} µs/row, client ${r.clientUsPerRow.toFixed(1)} µs/row`;

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
