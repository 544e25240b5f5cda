/** Best-effort delivery of an alert to a webhook: the outcome is returned (and stored), never thrown. */
import type { Alert } from '../risk/records';

const TIMEOUT_MS = 5_000;

/** 'delivered', 'http <status>' or 'error: <message>'. */
export async function postAlert(url: string, alert: Alert): Promise<string> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(alert),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    return res.ok ? 'delivered' : `http ${res.status}`;
  } catch (err) {
    return `error: ${(err as Error).message}`;
  }
}
