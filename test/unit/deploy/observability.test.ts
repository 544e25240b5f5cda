/**
 * deploy/prometheus and deploy/grafana, checked without running either: the rules file and the
 * dashboard are well formed, every expression reads only metrics Ballast exports (names taken from
 * the real registries the gate and the worker build, not from a list kept here), and the compose
 * services mount what the configs point at. The Temporal SDK's series, which exist only in a running
 * worker, are checked against a real worker's scrape (test/integration/processes/metrics.test.ts).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { type GateView, gateMetrics } from '../../../grpc/metrics';
import { DEFAULT_GATE_METRICS_PORT, DEFAULT_WORKER_METRICS_PORT, processRegistry } from '../../../processes/metricsEndpoint';
import { workerMetrics } from '../../../processes/workerMetrics';
import { balanced, metricNames } from '../../support/promql';

const ROOT = join(__dirname, '..', '..', '..');
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

interface Rule {
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const rulesFile = parse(read('deploy/prometheus/rules/ballast.yml')) as { groups: { name: string; rules: Rule[] }[] };
const rules = rulesFile.groups.flatMap((g) => g.rules);

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: { expr: string; refId: string }[];
}
const dashboard = JSON.parse(read('deploy/grafana/dashboards/ballast.json')) as {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { query: { query: string } }[] };
};
const compose = parse(read('docker-compose.yml')) as {
  services: Record<string, { volumes?: string[]; environment?: Record<string, string>; image?: string }>;
};

/** Every series name the gate and the worker export (a histogram's _bucket, _sum and _count included). */
function exportedNames(): Set<string> {
  const registry = processRegistry();
  gateMetrics(registry).watch({} as GateView);
  workerMetrics(registry, { read: async () => [] });
  const names = new Set<string>();
  for (const metric of registry.getMetricsAsArray()) {
    names.add(metric.name);
    if (String(metric.type) === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(metric.name + suffix);
  }
  return names;
}
const exported = exportedNames();
const ours = (name: string): boolean => !name.startsWith('temporal_');

describe('alert rules', () => {
  it('has the alerts the desk is paged for, each with a severity, a summary and a description', () => {
    expect(rules.map((r) => r.alert)).toEqual(
      expect.arrayContaining([
        'BallastBudgetStale',
        'BallastLoopHeartbeatMissing',
        'BallastApprovalWaitingTooLong',
        'BallastDenialRateSpike',
        'BallastAuditBacklog',
      ]),
    );
    expect(new Set(rules.map((r) => r.alert)).size).toBe(rules.length);
    for (const rule of rules) {
      expect(rule.alert).toMatch(/^Ballast[A-Z][A-Za-z]+$/);
      expect(['warning', 'critical']).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary).toBeTruthy();
      expect(rule.annotations?.description).toBeTruthy();
      if (rule.for) expect(rule.for).toMatch(/^\d+[smh]$/);
    }
  });

  it('reads only metrics Ballast exports, in balanced expressions', () => {
    for (const rule of rules) {
      expect({ alert: rule.alert, balanced: balanced(rule.expr) }).toEqual({ alert: rule.alert, balanced: true });
      const names = metricNames(rule.expr);
      expect(names.length).toBeGreaterThan(0);
      expect({ alert: rule.alert, unknown: names.filter((n) => !exported.has(n)) }).toEqual({ alert: rule.alert, unknown: [] });
    }
  });

  it('is loaded by the Prometheus config, which scrapes the ports the processes listen on', () => {
    const config = parse(read('deploy/prometheus/prometheus.yml')) as {
      rule_files: string[];
      scrape_configs: { job_name: string; static_configs?: { targets: string[] }[]; dns_sd_configs?: { port: number }[] }[];
    };
    expect(config.rule_files).toEqual(['/etc/prometheus/rules/*.yml']);
    expect(compose.services.prometheus.volumes).toContain('./deploy/prometheus:/etc/prometheus:ro');
    expect(readdirSync(join(ROOT, 'deploy', 'prometheus', 'rules')).filter((f) => f.endsWith('.yml'))).toEqual(['ballast.yml']);
    const job = (name: string) => config.scrape_configs.find((j) => j.job_name === name)!;
    expect(job('ballast').static_configs![0].targets).toEqual([`ballast:${DEFAULT_GATE_METRICS_PORT}`]);
    expect(job('ballast-worker').dns_sd_configs![0].port).toBe(DEFAULT_WORKER_METRICS_PORT);
    for (const service of ['ballast', 'worker']) expect(compose.services[service].environment?.BALLAST_METRICS_HOST).toBe('0.0.0.0');
  });
});

describe('Grafana dashboard', () => {
  const panels = dashboard.panels.filter((p) => p.type !== 'row');
  const datasource = parse(read('deploy/grafana/provisioning/datasources/prometheus.yml')) as {
    datasources: { uid: string; url: string }[];
  };

  it('is a provisioned dashboard over the provisioned Prometheus', () => {
    expect(dashboard.uid).toBe('ballast-overview');
    expect(datasource.datasources[0].url).toBe('http://prometheus:9090');
    const provider = parse(read('deploy/grafana/provisioning/dashboards/ballast.yml')) as { providers: { options: { path: string } }[] };
    const mount = compose.services.grafana.volumes!.find((v) => v.startsWith('./deploy/grafana/dashboards:'))!;
    expect(mount.split(':')[1]).toBe(provider.providers[0].options.path);
    expect(compose.services.grafana.volumes).toContain('./deploy/grafana/provisioning:/etc/grafana/provisioning:ro');
    const home = compose.services.grafana.environment!.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH;
    expect(existsSync(join(ROOT, 'deploy', 'grafana', 'dashboards', home.replace(`${provider.providers[0].options.path}/`, '')))).toBe(
      true,
    );
  });

  it('has unique panel ids, fits the 24-column grid, and every panel queries that datasource', () => {
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
    for (const p of dashboard.panels) expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
    for (const p of panels) {
      expect({ panel: p.title, uid: p.datasource?.uid }).toEqual({ panel: p.title, uid: datasource.datasources[0].uid });
      expect(p.targets?.length).toBeGreaterThan(0);
    }
  });

  it('reads only metrics Ballast exports (the Temporal SDK series: see the integration test)', () => {
    // A variable's label_values(metric, label) is Grafana's, not PromQL: its metric is read as one.
    const variables = dashboard.templating.list.map((v) => /^label_values\((\w+),\s*\w+\)$/.exec(v.query.query)![1]);
    const exprs = [...panels.flatMap((p) => p.targets!.map((t) => t.expr)), ...variables];
    for (const expr of exprs) {
      expect({ expr, balanced: balanced(expr) }).toEqual({ expr, balanced: true });
      expect({ expr, unknown: metricNames(expr).filter((n) => ours(n) && !exported.has(n)) }).toEqual({ expr, unknown: [] });
    }
  });
});

test('the PromQL name reader finds metric names and skips functions, labels, ranges and keywords', () => {
  expect(
    metricNames(
      'histogram_quantile(0.99, sum by (le, grpc_method) (rate(grpc_server_handling_seconds_bucket{grpc_service="a.B"}[5m]))) > 1e-3',
    ),
  ).toEqual(['grpc_server_handling_seconds_bucket']);
  expect(metricNames('a > 3 * sum by (p) (rate(b{x="y"}[1h] offset 5m)) and on (p) c unless absent(d)')).toEqual(['a', 'b', 'c', 'd']);
  expect(balanced('sum(rate(x[5m])')).toBe(false);
});
