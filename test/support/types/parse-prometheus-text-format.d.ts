declare module 'parse-prometheus-text-format' {
  /** Metric families with their samples (see test/support/promText.ts for the shape). */
  export default function parsePrometheusTextFormat(text: string): unknown[];
}
