/**
 * The gate's standard health service: SERVING only while it listens, has its budgets and can record
 * what it would acknowledge. Every change is logged once (an error when a listening gate stops serving).
 */
import { HealthImplementation } from 'grpc-health-check';
import type { Logger } from 'pino';

export const GATE_SERVICE_NAME = 'ballast.gate.v1.GateService';

type Status = 'SERVING' | 'NOT_SERVING';

/** What decides health, read at every refresh. */
export interface HealthInputs {
  /** Bound and not stopping. */
  readonly listening: boolean;
  /** Budgets loaded. */
  readonly ready: boolean;
  /** Why it cannot record what it would acknowledge, or undefined. */
  readonly problem: string | undefined;
}

export class GateHealth {
  readonly service = new HealthImplementation({ '': 'NOT_SERVING', [GATE_SERVICE_NAME]: 'NOT_SERVING' });
  private serving = false;

  constructor(private readonly logger: Logger) {}

  /** Sets both the server's and the gate service's status. */
  set(status: Status): void {
    this.serving = status === 'SERVING';
    this.service.setStatus('', status);
    this.service.setStatus(GATE_SERVICE_NAME, status);
  }

  refresh({ listening, ready, problem }: HealthInputs): void {
    const ok = listening && ready && problem === undefined;
    if (ok === this.serving) return;
    this.set(ok ? 'SERVING' : 'NOT_SERVING');
    if (ok) this.logger.info('gate SERVING');
    else if (listening) this.logger.error({ problem }, 'gate NOT_SERVING: it cannot record what it would acknowledge');
  }
}
