import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ROOT } from './support/cli-process.js';
import { sqliteBackend } from './support/sqlite-backend.js';
import { startService } from './support/service.js';

/**
 * The operations files (Grafana dashboard, Prometheus alerts and their unit tests) name only
 * metrics the service really exposes. `promtool check rules` / `promtool test rules` (in .ci/run)
 * check the rules' syntax and behaviour.
 */
const OPS_FILES = ['ops/grafana/feature-store.json', 'ops/prometheus/alerts.yml', 'ops/prometheus/alerts.test.yml'];

async function exposedNames(): Promise<Set<string>> {
  const instance = await sqliteBackend.setup();
  const runtime = await startService(instance);
  try {
    const text = await (await fetch(`${runtime.url}/metrics`)).text();
    const names = new Set<string>();
    for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      if (name === undefined) continue;
      names.add(name);
      if (type === 'histogram') for (const suffix of ['_bucket', '_count', '_sum']) names.add(name + suffix);
    }
    return names;
  } finally {
    await runtime.close();
    await instance.teardown();
  }
}

describe('operations files', () => {
  test('name only metrics that GET /metrics exposes', async () => {
    const names = await exposedNames();
    for (const file of OPS_FILES) {
      const used = new Set(readFileSync(join(ROOT, file), 'utf8').match(/feature_store_[a-z0-9_]+/g) ?? []);
      assert.ok(used.size > 0, `${file} uses metrics`);
      for (const name of used) assert.ok(names.has(name), `${file}: ${name} is not exposed by the service`);
    }
  });

  test('the dashboard is a Grafana dashboard with a query in every panel', () => {
    const dashboard = JSON.parse(readFileSync(join(ROOT, OPS_FILES[0] ?? ''), 'utf8')) as {
      title: string;
      panels: { type: string; title: string; targets?: { expr: string }[] }[];
    };
    assert.equal(dashboard.title, 'feature-store');
    const charts = dashboard.panels.filter((p) => p.type !== 'row');
    assert.ok(charts.length >= 10, 'charts.length >= 10');
    for (const panel of charts) assert.ok((panel.targets ?? []).every((t) => t.expr.includes('feature_store_')) && (panel.targets ?? []).length > 0, panel.title);
  });
});
