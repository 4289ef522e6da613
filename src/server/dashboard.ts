// The web dashboard: one page and its plain JS/CSS from assets/dashboard (shipped in the package), with uPlot and
// the chart code shared with the HTML reports served from here, so it works offline and needs no bundler.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { CHART_CLIENT_JS, uplotAssets } from '../report/html.js';

/** assets/dashboard, found from src/server (tsx) and dist/server (built, installed) alike. */
export function dashboardDir(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '../../assets/dashboard');
}

interface Asset {
  type: string;
  body: string;
}

let cache: Map<string, Asset> | undefined;

function assets(): Map<string, Asset> {
  if (cache) return cache;
  const dir = dashboardDir();
  const read = (f: string) => {
    try {
      return readFileSync(join(dir, f), 'utf8');
    } catch {
      throw new Error(`dashboard file ${join(dir, f)} is missing from this installation; reinstall scalepilot (the package ships assets/dashboard)`);
    }
  };
  const { js, css } = uplotAssets();
  cache = new Map<string, Asset>([
    ['index.html', { type: 'text/html; charset=utf-8', body: read('index.html') }],
    ['app.js', { type: 'text/javascript; charset=utf-8', body: read('app.js') }],
    ['style.css', { type: 'text/css; charset=utf-8', body: read('style.css') }],
    ['uplot.js', { type: 'text/javascript; charset=utf-8', body: js }],
    ['uplot.css', { type: 'text/css; charset=utf-8', body: css }],
    ['charts.js', { type: 'text/javascript; charset=utf-8', body: CHART_CLIENT_JS }],
  ]);
  return cache;
}

// Everything the page loads comes from this server; nothing inline, no other origin.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export async function registerDashboard(app: FastifyInstance): Promise<void> {
  const a = assets();
  const send = (name: string) => async (_req: unknown, reply: import('fastify').FastifyReply) => {
    const asset = a.get(name)!;
    reply.header('content-security-policy', CSP);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('cache-control', name === 'index.html' ? 'no-cache' : 'max-age=300');
    reply.type(asset.type);
    return asset.body;
  };
  app.get('/', { config: { api: false } }, send('index.html'));
  app.get<{ Params: { file: string } }>('/assets/:file', { config: { api: false } }, async (req, reply) => {
    const f = req.params.file;
    if (f === 'index.html' || !a.has(f)) return reply.code(404).send({ error: `no dashboard asset ${f}`, statusCode: 404 });
    return send(f)(req, reply);
  });
}
