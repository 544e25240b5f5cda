/**
 * Where a closed-loop load's CPU goes on this machine: the server process, the load client, Postgres
 * (every `postgres` process: backends, WAL writer, checkpointer) and how idle the machine was, over
 * the load's recording window. Read from Linux's /proc (elsewhere: undefined, and the bench prints
 * nothing). It answers "what bounds this figure": a client at one full core bounds a closed loop
 * whatever the server does, and a machine with no idle time is CPU-bound.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';

/** CPU milliseconds (user + system) of each party, and the machine's idle and total jiffies, at one instant. */
interface CpuSnapshot {
  readonly serverMs: number;
  /** Other servers of the run (an HA replica that only renews its leases while the client calls the owner). */
  readonly othersMs: number;
  readonly clientMs: number;
  readonly postgresMs: number;
  readonly idleJiffies: number;
  readonly totalJiffies: number;
}

/** Per call (or streamed order) over a window, and the machine's idle share in it. */
export interface CpuPerCall {
  readonly serverUs: number;
  /** The other servers' CPU per call (undefined: the run had none). */
  readonly othersUs: number | undefined;
  readonly clientUs: number;
  readonly postgresUs: number;
  /** 0..1 */
  readonly machineIdle: number;
  /** Of one core, 0..1: a client near 1 is what bounds the loop. */
  readonly clientBusy: number;
}

const PROC = '/proc';
/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in ticks of 1/100 s. */
const TICK_MS = 10;

export const processCpuAvailable = (): boolean => existsSync(`${PROC}/stat`);

export function processCpuMs(pid: number): number {
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = readFileSync(`${PROC}/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return NaN;
  }
}

function postgresCpuMs(): number {
  let ms = 0;
  for (const entry of readdirSync(PROC)) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`${PROC}/${entry}/comm`, 'utf8').startsWith('postgres')) ms += processCpuMs(Number(entry));
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return ms;
}

function snapshot(serverPid: number, clientPid: number, otherPids: readonly number[]): CpuSnapshot {
  const jiffies = readFileSync(`${PROC}/stat`, 'utf8').split('\n')[0].split(/\s+/).slice(1).map(Number);
  return {
    serverMs: processCpuMs(serverPid),
    othersMs: otherPids.reduce((sum, pid) => sum + processCpuMs(pid), 0),
    clientMs: processCpuMs(clientPid),
    postgresMs: postgresCpuMs(),
    idleJiffies: jiffies[3] + jiffies[4],
    totalJiffies: jiffies.reduce((a, b) => a + b, 0),
  };
}

/** Starts a window now; `end(calls, elapsedMs)` returns the CPU per call over it. */
export function cpuWindow(
  serverPid: number,
  clientPid: number,
  otherPids: readonly number[] = [],
): { end(calls: number, elapsedMs: number): CpuPerCall } {
  const start = snapshot(serverPid, clientPid, otherPids);
  return {
    end(calls, elapsedMs) {
      const end = snapshot(serverPid, clientPid, otherPids);
      const per = (a: number, b: number): number => ((b - a) * 1000) / Math.max(1, calls);
      return {
        serverUs: per(start.serverMs, end.serverMs),
        othersUs: otherPids.length > 0 ? per(start.othersMs, end.othersMs) : undefined,
        clientUs: per(start.clientMs, end.clientMs),
        postgresUs: per(start.postgresMs, end.postgresMs),
        machineIdle: (end.idleJiffies - start.idleJiffies) / Math.max(1, end.totalJiffies - start.totalJiffies),
        clientBusy: (end.clientMs - start.clientMs) / Math.max(1, elapsedMs),
      };
    },
  };
}

export function cpuLine(c: CpuPerCall): string {
  const others = c.othersUs === undefined ? '' : ` (other replica ${c.othersUs.toFixed(0)} µs)`;
  return `cpu/call: server ${c.serverUs.toFixed(0)} µs${others}, client ${c.clientUs.toFixed(0)} µs (${(100 * c.clientBusy).toFixed(0)} % of a core), postgres ${c.postgresUs.toFixed(0)} µs; machine idle ${(100 * c.machineIdle).toFixed(0)} %`;
}
