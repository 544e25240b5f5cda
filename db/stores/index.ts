/** Every store over one pool: what a process hands its activities (or its console) instead of the pool itself. */
import type pg from 'pg';
import { AlertStore } from './alerts';
import { ApprovalStore } from './approvals';
import { BudgetStore } from './budgets';
import { MarketCloseStore } from './marketCloses';
import { FeedStore } from './marketFeeds';
import { MetricsStore } from './metrics';
import { OperatorActionStore } from './operatorActions';
import { OverrideStore } from './overrides';
import { PortfolioPolicyStore } from './portfolioPolicies';
import { PortfolioStore } from './portfolios';
import { PositionsStore } from './positions';
import { RebalancePlanStore } from './rebalancePlans';
import { RecommendationStore } from './recommendations';
import { RegimeChangeStore } from './regimeChanges';
import { RiskModelStore } from './riskModels';
import { TradingStateStore } from './tradingStates';

export interface Stores {
  readonly portfolios: PortfolioStore;
  readonly policies: PortfolioPolicyStore;
  readonly budgets: BudgetStore;
  readonly recommendations: RecommendationStore;
  readonly approvals: ApprovalStore;
  readonly overrides: OverrideStore;
  readonly alerts: AlertStore;
  readonly metrics: MetricsStore;
  readonly regimeChanges: RegimeChangeStore;
  readonly operatorActions: OperatorActionStore;
  readonly rebalancePlans: RebalancePlanStore;
  readonly positions: PositionsStore;
  readonly feeds: FeedStore;
  readonly riskModels: RiskModelStore;
  readonly closes: MarketCloseStore;
  readonly tradingStates: TradingStateStore;
}

export function createStores(pool: pg.Pool): Stores {
  return {
    portfolios: new PortfolioStore(pool),
    policies: new PortfolioPolicyStore(pool),
    budgets: new BudgetStore(pool),
    recommendations: new RecommendationStore(pool),
    approvals: new ApprovalStore(pool),
    overrides: new OverrideStore(pool),
    alerts: new AlertStore(pool),
    metrics: new MetricsStore(pool),
    regimeChanges: new RegimeChangeStore(pool),
    operatorActions: new OperatorActionStore(pool),
    rebalancePlans: new RebalancePlanStore(pool),
    positions: new PositionsStore(pool),
    feeds: new FeedStore(pool),
    riskModels: new RiskModelStore(pool),
    closes: new MarketCloseStore(pool),
    tradingStates: new TradingStateStore(pool),
  };
}
