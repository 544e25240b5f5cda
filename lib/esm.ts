/**
 * Loads an ESM-only package from CommonJS. A literal `import()` would be rewritten to `require()` by
 * some transpilers (ts-jest in CommonJS mode), so the call is built at run time.
 */
const dynamicImport = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<unknown>;

export async function importEsm<T>(specifier: string): Promise<T> {
  return (await dynamicImport(specifier)) as T;
}
