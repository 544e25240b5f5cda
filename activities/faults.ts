/**
 * Fault injection for the crash tests: BALLAST_FAULT_CRASH_AFTER_COMMITS=N kills this process right
 * after its N-th new commit, before Temporal learns the activity completed — the worst moment.
 */
let commitsSinceStart = 0;

export function crashAfterCommitIfInjected(): void {
  const limit = Number(process.env.BALLAST_FAULT_CRASH_AFTER_COMMITS ?? 0);
  if (limit > 0 && ++commitsSinceStart >= limit) process.kill(process.pid, 'SIGKILL');
}
