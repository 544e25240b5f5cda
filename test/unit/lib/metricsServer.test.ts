/** The /metrics endpoint: the registry on GET /metrics, 404 elsewhere, a clear error on a busy port. */
import { Counter, Registry } from 'prom-client';
import { serveMetrics } from '../../../lib/metricsServer';

test('serves the registry in the text format on GET /metrics only', async () => {
  const registry = new Registry();
  new Counter({ name: 'example_total', help: 'an example', registers: [registry] }).inc(3);
  const endpoint = await serveMetrics(registry, '127.0.0.1', 0);
  try {
    const res = await fetch(endpoint.url);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await res.text()).toContain('example_total 3');
    expect((await fetch(endpoint.url.replace('/metrics', '/other'))).status).toBe(404);
    expect((await fetch(endpoint.url, { method: 'POST' })).status).toBe(405);

    const port = Number(new URL(endpoint.url).port);
    await expect(serveMetrics(registry, '127.0.0.1', port)).rejects.toThrow(`the /metrics port 127.0.0.1:${port} is in use`);
  } finally {
    await endpoint.close();
  }
});
