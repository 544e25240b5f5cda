/**
 * Policies and budgets the workflow names by reference (a policy version, a budget version) instead of
 * sending them through history. Stored versions never change, so each worker keeps the ones it has read.
 */
import type { Stores } from '../db/stores';
import type { RiskBudget } from '../risk/budget';
import type { RiskConfig } from '../risk/config';
import { DataError } from '../risk/timeseries';
import type { PolicyRef } from '../workflows/contract';
import { parseConfig } from './userErrors';

/** Entries kept per kind: at least the loops one worker carries (docs/capacity.md), each ~10 kB at most. */
const MAX_CACHED = 4096;

export interface StoredReferences {
  /** The parsed policy a reference names (a ConfigError for a bad inline document, a DataError for an unknown version). */
  config(portfolioId: string, ref: PolicyRef): Promise<RiskConfig>;
  budget(portfolioId: string, version: number): Promise<RiskBudget>;
}

export function storedReferences(stores: Stores): StoredReferences {
  const configs = boundedCache<RiskConfig>();
  const budgets = boundedCache<RiskBudget>();
  return {
    async config(portfolioId, ref) {
      if (!('version' in ref)) return parseConfig(ref.document);
      return configs(`${portfolioId}:${ref.version}`, async () => {
        const stored = await stores.policies.version(portfolioId, ref.version);
        if (!stored) throw new DataError(`policy version ${ref.version} of portfolio "${portfolioId}" is not stored`);
        return parseConfig(stored.document);
      });
    },
    budget: (portfolioId, version) =>
      budgets(`${portfolioId}:${version}`, async () => {
        const stored = await stores.budgets.budgetVersion(portfolioId, version);
        if (!stored) throw new DataError(`budget version ${version} of portfolio "${portfolioId}" is not stored`);
        return stored.budget;
      }),
  };
}

/** Get-or-load over a Map, dropping the oldest entry when full. */
function boundedCache<T>(): (key: string, load: () => Promise<T>) => Promise<T> {
  const entries = new Map<string, T>();
  return async (key, load) => {
    const hit = entries.get(key);
    if (hit !== undefined) return hit;
    const value = await load();
    if (entries.size >= MAX_CACHED) entries.delete(entries.keys().next().value as string);
    entries.set(key, value);
    return value;
  };
}
