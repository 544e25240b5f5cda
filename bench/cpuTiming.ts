/**
 * Median CPU milliseconds (user + system) of `fn`. CPU time rather than wall time because the benchmark
 * machines are shared: wall time mostly measures the neighbours. Wall time is reported alongside.
 */
export interface Timing {
  readonly cpu: number;
  readonly wall: number;
}

export function median(repeats: number, fn: () => unknown): Timing {
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let k = 0; k < repeats; k++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    fn();
    wall.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e3);
  }
  return { cpu: middle(cpu), wall: middle(wall) };
}

function middle(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
