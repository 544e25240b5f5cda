/**
 * Trigger evaluation for a proposed budget against the committed one. Runs as an activity so the
 * workflow never executes risk math itself (changing the math cannot break workflow replay).
 */
import { addsRisk, type RiskBudget } from '../risk/budget';
import type { TriggerReading } from '../workflows/types';
import { parseConfig } from './riskCycle';

export interface TriggerAssessment {
  readonly triggers: TriggerReading[];
  readonly addsRisk: boolean;
  readonly summary: Record<string, number | string | null>;
}

export function triggerActivities() {
  return {
    async evaluateTriggers(input: {
      portfolioId: string;
      config?: unknown;
      current: RiskBudget | null;
      proposed: RiskBudget;
      regimeChanged: boolean;
      realizedVol: number;
    }): Promise<TriggerAssessment> {
      const config = parseConfig(input.config);
      const { current, proposed } = input;
      const triggers: TriggerReading[] = [];
      triggers.push({ kind: 'initial-budget', fired: current === null, value: current === null ? 'none' : 'exists', threshold: null });
      triggers.push({
        kind: 'regime-change',
        fired: config.triggers.regimeChange && input.regimeChanged,
        value: proposed.regime,
        threshold: current?.regime ?? null,
      });
      const grossDrift = current ? Math.abs(proposed.limits.maxGrossNotional / current.limits.maxGrossNotional - 1) : 0;
      triggers.push({
        kind: 'budget-drift',
        fired: current !== null && grossDrift > config.triggers.driftThreshold,
        value: grossDrift,
        threshold: config.triggers.driftThreshold,
        detail: 'relative change of the gross exposure limit',
      });
      const volBreachLevel = config.triggers.volBreach * proposed.volTarget;
      triggers.push({
        kind: 'vol-breach',
        fired: current !== null && current.regime === proposed.regime && input.realizedVol > volBreachLevel,
        value: input.realizedVol,
        threshold: volBreachLevel,
        detail: 'realized index vol vs vol_breach × regime vol target',
      });
      return {
        triggers,
        addsRisk: addsRisk(current ?? undefined, proposed),
        summary: {
          regimeBefore: current?.regime ?? null,
          regimeAfter: proposed.regime,
          grossLimitBefore: current?.limits.maxGrossNotional ?? null,
          grossLimitAfter: proposed.limits.maxGrossNotional,
          leverageBefore: current?.limits.grossLeverage ?? null,
          leverageAfter: proposed.limits.grossLeverage,
        },
      };
    },
  };
}
