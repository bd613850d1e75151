// Takes the README's screenshot of the web UI (docs/ui.png): starts the service on a temporary
// SQLite file, writes a few records through the API, and photographs one entity in headless
// Chromium (CHROMIUM_PATH, default /usr/bin/chromium).
//
//   node --import tsx scripts/ui-screenshot.ts [out.png]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { startServer } from '../src/server.js';
import { launchBrowser } from '../test/support/browser.js';

const out = process.argv[2] ?? new URL('../docs/ui.png', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'feature-store-screenshot-'));
const runtime = await startServer(
  loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', SQLITE_PATH: join(dir, 'features.db'), CATEGORY_TTL: 'ncr_unauth_features=30d' }),
);
try {
  const write = async (category: string, features: Record<string, unknown>, computeId: string, eventTime?: string) => {
    const res = await fetch(`${runtime.url}/api/v1/items`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        meta: { source: 'prediction_service', compute_id: computeId, ...(eventTime === undefined ? {} : { event_time: eventTime }) },
        data: { entity_type: 'bright_uid', entity_value: 'user-12345', category, features },
      }),
    });
    if (!res.ok) throw new Error(`write failed: ${res.status} ${await res.text()}`);
  };
  await write('d0_unauth_features', { credit_score: 735, debt_to_income_ratio: 0.38 }, 'spark-job-2025-10-15-9f2e01', '2025-10-15T10:00:00Z');
  await write('d0_unauth_features', { credit_score: 742, debt_to_income_ratio: 0.36 }, 'spark-job-2025-10-16-abc123', '2025-10-16T10:00:00Z');
  await write(
    'd0_unauth_features',
    { credit_score: 750, debt_to_income_ratio: 0.35, segments: ['prime', 'thin-file'] },
    'spark-job-2025-10-17-def456',
    '2025-10-17T10:00:00Z',
  );
  await write('ncr_unauth_features', { utilization: 0.2, open_accounts: 4, last_delinquency: null }, 'ncr-refresh-42');

  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1200, height: 700, deviceScaleFactor: 1 });
    await page.goto(`${runtime.url}/ui/?entity_type=bright_uid&entity_value=user-12345`);
    await page.waitForSelector('section[data-category="ncr_unauth_features"]');
    await page.screenshot({ path: out, fullPage: true });
    console.error(`wrote ${out}`);
  } finally {
    await browser.close();
  }
} finally {
  await runtime.close();
  rmSync(dir, { recursive: true, force: true });
}
