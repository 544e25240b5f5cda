/**
 * Ballast's custom search attributes, defined once: the loop upserts them, the worker registers them
 * on a server that lacks them, the dev server is started with them. Operators filter loops by them in
 * the Temporal UI (e.g. `BallastPendingApproval = true`).
 */
import { SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';

export const PORTFOLIO_SA = defineSearchAttributeKey('BallastPortfolio', SearchAttributeType.KEYWORD);
export const REGIME_SA = defineSearchAttributeKey('BallastRegime', SearchAttributeType.KEYWORD);
export const PENDING_APPROVAL_SA = defineSearchAttributeKey('BallastPendingApproval', SearchAttributeType.BOOL);

export const SEARCH_ATTRIBUTES = [PORTFOLIO_SA, REGIME_SA, PENDING_APPROVAL_SA] as const;
