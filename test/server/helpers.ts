// A real Runtime for API tests: SQLite in memory, the dry-run provider, and a trace metric source whose recorded
// series cover the next hour, so the controller reads real values through the real source and config loader.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/load.js';
import { startRuntime, type Runtime } from '../../src/controller/runtime.js';
import { buildServer, type BuiltServer, type ServerOptions } from '../../src/server/server.js';
import { tempDir } from '../helpers/env.js';

export interface ApiFixture extends BuiltServer {
  rt: Runtime;
  dir: string;
  close(): Promise<void>;
}

export interface FixtureOptions {
  /** requests/s the trace reports for the `web` service (constant over the hour) */
  rps?: number;
  /** queue length the trace reports for the `worker` service */
  queue?: number;
  server?: Partial<Omit<ServerOptions, 'runtime'>>;
  dryRun?: boolean;
}

export function traceCsv(startSeconds: number, series: Record<string, number>): string {
  const names = Object.keys(series);
  const rows = ['t_seconds,' + names.join(',')];
  for (let t = 0; t <= 3600; t += 10) rows.push(`${startSeconds + t},${names.map((n) => series[n]).join(',')}`);
  return rows.join('\n') + '\n';
}

export function configYaml(traceFile: string, startIso: string): string {
  return `
syncPeriod: 15s
store: "sqlite::memory:"
sources:
  recorded: { type: trace, file: ${JSON.stringify(traceFile)}, start: ${JSON.stringify(startIso)} }
services:
  web:
    target: { provider: dryrun, replicas: 2 }
    minReplicas: 1
    maxReplicas: 4
    metrics:
      rps: { source: recorded, query: rps }
    hpa:
      metrics:
        - type: External
          external: { metric: { name: rps }, target: { type: AverageValue, averageValue: "100" } }
    rules:
      - { name: hot, when: "rps > 300", for: 10m, then: "+1", severity: warning }
      - { name: idle, when: "rps < 1", for: 10m, then: "-1" }
  worker:
    target: { provider: dryrun, replicas: 1 }
    minReplicas: 1
    maxReplicas: 10
    metrics:
      backlog: { source: recorded, query: backlog }
    queue: { metric: backlog, targetPerReplica: 50 }
`;
}

export async function apiFixture(o: FixtureOptions = {}): Promise<ApiFixture> {
  const tmp = tempDir('scalepilot-api-');
  // the trace starts a minute ago, so "now" falls inside it for the whole test
  const start = Math.floor(Date.now() / 1000) - 60;
  const trace = join(tmp.path, 'trace.csv');
  writeFileSync(trace, traceCsv(0, { rps: o.rps ?? 150, backlog: o.queue ?? 20 }));
  const file = join(tmp.path, 'scalepilot.yaml');
  const yaml = configYaml(trace, new Date(start * 1000).toISOString());
  writeFileSync(file, yaml);
  const rt = await startRuntime(parseConfig(yaml, file), { dryRun: o.dryRun ?? false, stateDir: join(tmp.path, 'state') });
  const built = await buildServer({ runtime: rt, listen: '127.0.0.1:0', ...o.server });
  return {
    ...built,
    rt,
    dir: tmp.path,
    async close() {
      await built.app.close();
      await rt.close();
      tmp.cleanup();
    },
  };
}

export const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
