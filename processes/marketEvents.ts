/** Wakes portfolio loops after market data arrived (the gate's IngestCloses), over Temporal: their marketEvent Signal. */
import type { Client } from '@temporalio/client';
import { marketEventSignal } from '../workflows/messages';
import { loopWorkflowId } from '../workflows/types';

export function temporalMarketEvents(client: Client): (portfolioIds: readonly string[], source: string) => Promise<void> {
  return async (portfolioIds, source) => {
    await Promise.all(portfolioIds.map((id) => client.workflow.getHandle(loopWorkflowId(id)).signal(marketEventSignal, { source })));
  };
}
