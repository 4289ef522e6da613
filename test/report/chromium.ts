// Opens an HTML report in Debian's headless Chromium (never a downloaded browser) from a temp file, collecting console
// errors and any network request the page makes, and saves a full-page screenshot under test-artifacts/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { requireBinary, tempDir } from '../helpers/env.js';

export interface OpenedReport {
  page: Page;
  /** Console errors and uncaught page errors. */
  errors: string[];
  /** Requests for anything but the report file itself. */
  requests: string[];
}

export async function withReportInChromium(html: string, screenshot: string, fn: (r: OpenedReport) => Promise<void>): Promise<void> {
  const executablePath = requireBinary('/usr/bin/chromium', 'chromium');
  const dir = tempDir();
  const browser = await chromium.launch({
    executablePath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--headless'],
  });
  try {
    const file = join(dir.path, 'report.html');
    writeFileSync(file, html);
    const page = await browser.newPage({ viewport: { width: 1100, height: 1200 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('request', (r) => { if (r.url() !== 'file://' + file) requests.push(r.url()); });
    await page.goto('file://' + file);
    await fn({ page, errors, requests });
    mkdirSync('test-artifacts', { recursive: true });
    await page.screenshot({ path: join('test-artifacts', screenshot), fullPage: true });
  } finally {
    await browser.close();
    dir.cleanup();
  }
}
