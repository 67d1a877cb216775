/**
 * The operator's files in deploy/: Prometheus's scrape config and alert rules pass promtool's
 * checks, and every metric the alerts and the Grafana dashboard name is one the server serves.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { call } from '../support/api';
import { startTestServer } from '../support/server';

const DEPLOY = path.resolve(__dirname, '../../deploy');
const read = (file: string) => fs.readFileSync(path.join(DEPLOY, file), 'utf8');

function promtool(...args: string[]) {
  const r = spawnSync('promtool', args, { encoding: 'utf8' });
  if (r.error) throw new Error(`promtool could not run (${r.error.message}): npm test's set-up installs it (apt-get install -y prometheus)`);
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe("deploy/'s Prometheus and Grafana files", () => {
  test('promtool accepts the scrape config (with its token file beside it) and the alert rules', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sems-prometheus-'));
    try {
      for (const file of ['prometheus.yml', 'alerts.yml']) fs.copyFileSync(path.join(DEPLOY, file), path.join(dir, file));
      fs.writeFileSync(path.join(dir, 'sems-metrics-token'), 'metrics-token-0123456789\n', { mode: 0o600 });
      const config = promtool('check', 'config', path.join(dir, 'prometheus.yml'));
      expect(config).toMatchObject({ status: 0 });
      const rules = promtool('check', 'rules', path.join(dir, 'alerts.yml'));
      expect(rules.out).toMatch(/SUCCESS: 5 rules found/);
      expect(rules.status).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('every sems_ metric the alerts and the dashboard name is served by /metrics', async () => {
    const dashboard = JSON.parse(read('grafana-dashboard.json')) as { panels: { title: string; targets: { expr: string }[] }[] };
    expect(dashboard.panels.length).toBeGreaterThan(5);
    for (const panel of dashboard.panels)
      expect({ panel: panel.title, targets: panel.targets.length > 0 }).toEqual({ panel: panel.title, targets: true });
    const used = new Set(
      [read('alerts.yml'), ...dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr))]
        .flatMap((text) => [...text.matchAll(/\bsems_[a-z_]+/g)].map((m) => m[0]))
        .map((name) => name.replace(/_(bucket|count|sum)$/, '')),
    );
    const server = await startTestServer({ METRICS_TOKEN: 'metrics-token-0123456789' });
    try {
      const text = (await call<string>(server.url, 'GET', '/metrics', { headers: { authorization: 'Bearer metrics-token-0123456789' } })).text;
      const served = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
      expect([...used].filter((name) => !served.has(name))).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});
