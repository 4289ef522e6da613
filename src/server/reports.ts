// Stored simulation and load-test reports: a directory of JSON and HTML files (what `simulate --report`,
// `loadtest --report` and `-o json > file` write), listed by name and served back without leaving the directory.
import { readdir, readFile, lstat, open, realpath, type FileHandle } from 'node:fs/promises';
import { constants } from 'node:fs';
import { basename, dirname, extname, join, resolve, sep } from 'node:path';

export const REPORT_KINDS = ['simulation', 'loadtest', 'capacity', 'demo', 'report'] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];

export interface ReportEntry {
  /** file name without extension; a .json and an .html of the same name are one report */
  name: string;
  kind: ReportKind;
  title: string;
  /** newest modification time of its files, epoch ms */
  modified: number;
  files: Array<{ format: 'json' | 'html'; file: string; size: number; url: string }>;
}

/** Reports larger than this are listed by name only (not opened to classify them). */
const CLASSIFY_LIMIT = 64 * 1024 * 1024;
/** Only this much of an HTML file is read to find its <title>. */
const TITLE_BYTES = 8192;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*\.(json|html)$/;

/** What kind of report a parsed JSON document is, by the fields each writer produces. */
export function classifyReportJson(doc: unknown): ReportKind {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return 'report';
  const o = doc as Record<string, unknown>;
  if (Array.isArray(o.services) && 'trace' in o) return 'simulation';
  if (typeof o.sustainableRps === 'number' && Array.isArray(o.steps)) return 'capacity';
  if ('model' in o && 'latency' in o && typeof o.requests === 'number') return 'loadtest';
  if (Array.isArray(o.timeline) && 'peakReplicas' in o) return 'demo';
  return 'report';
}

function classifyTitle(title: string): ReportKind {
  if (/simulat/i.test(title)) return 'simulation';
  if (/capacity/i.test(title)) return 'capacity';
  if (/load ?test/i.test(title)) return 'loadtest';
  if (/demo/i.test(title)) return 'demo';
  return 'report';
}

function jsonTitle(kind: ReportKind, doc: Record<string, unknown>, name: string): string {
  switch (kind) {
    case 'simulation':
      return `simulation of ${basename(String(doc.config ?? name))} on ${basename(String(doc.trace ?? '?'))}`;
    case 'loadtest':
      return `load test of ${String(doc.url ?? '?')} (${String(doc.model ?? '')} model)`;
    case 'capacity':
      return `capacity of ${String(doc.url ?? '?')}: ${String(doc.sustainableRps)} rps`;
    default:
      return name;
  }
}

async function htmlTitle(path: string): Promise<string | undefined> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(TITLE_BYTES);
    const { bytesRead } = await fh.read(buf, 0, TITLE_BYTES, 0);
    const m = /<title>([^<]*)<\/title>/i.exec(buf.subarray(0, bytesRead).toString('utf8'));
    return m ? m[1]!.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&').trim() : undefined;
  } finally {
    await fh.close();
  }
}

/** Lists the reports in `dir` (not recursive), newest first. A missing directory is an error naming it. */
export async function listReports(dir: string, urlPrefix = '/api/v1/reports/'): Promise<ReportEntry[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`reports directory ${dir} cannot be read (${code ?? (e as Error).message}); create it or pass another --reports DIR`);
  }
  const byName = new Map<string, ReportEntry>();
  for (const file of names.filter((n) => NAME.test(n)).sort()) {
    const path = join(dir, file);
    let st;
    try {
      // lstat: a symlink in the reports directory could point anywhere (/etc/passwd); it is not a report
      st = await lstat(path);
    } catch {
      continue; // removed while listing
    }
    if (!st.isFile()) continue;
    const format = extname(file).slice(1) as 'json' | 'html';
    const name = file.slice(0, -(format.length + 1));
    const entry = byName.get(name) ?? { name, kind: 'report' as ReportKind, title: name, modified: 0, files: [] };
    entry.files.push({ format, file, size: st.size, url: urlPrefix + encodeURIComponent(file) });
    entry.modified = Math.max(entry.modified, st.mtimeMs);
    try {
      if (format === 'json' && st.size <= CLASSIFY_LIMIT) {
        const doc = JSON.parse(await readFile(path, 'utf8')) as unknown;
        entry.kind = classifyReportJson(doc);
        entry.title = jsonTitle(entry.kind, (doc ?? {}) as Record<string, unknown>, name);
      } else if (format === 'html' && entry.kind === 'report') {
        const t = await htmlTitle(path);
        if (t) {
          entry.title = t;
          entry.kind = classifyTitle(t);
        }
      }
    } catch {
      // an unreadable or half-written file is still listed, as a plain report
    }
    byName.set(name, entry);
  }
  return [...byName.values()].sort((a, b) => b.modified - a.modified || a.name.localeCompare(b.name));
}

/**
 * Resolves a report file name inside `dir`, or undefined when the name is not a plain report file name (no
 * separators, no dot-files, .json or .html only) — so a request can never read outside the directory.
 */
export function reportPath(dir: string, file: string): { path: string; format: 'json' | 'html' } | undefined {
  if (!NAME.test(file) || file.includes('..')) return undefined;
  const root = resolve(dir);
  const path = resolve(root, file);
  if (!path.startsWith(root + sep)) return undefined;
  return { path, format: extname(file) === '.json' ? 'json' : 'html' };
}

/**
 * Opens a report for serving: a regular file directly inside the directory, never through a symlink (checked on
 * the path, again after realpath, and by O_NOFOLLOW on the open itself, so a link swapped in meanwhile fails too).
 * Undefined when there is no such report.
 */
export async function openReport(dir: string, file: string): Promise<{ fh: FileHandle; size: number; format: 'json' | 'html' } | undefined> {
  const r = reportPath(dir, file);
  if (!r) return undefined;
  let root: string;
  try {
    root = await realpath(dir);
    const st = await lstat(r.path);
    if (!st.isFile()) return undefined;
    if (dirname(await realpath(r.path)) !== root) return undefined;
  } catch {
    return undefined;
  }
  let fh: FileHandle;
  try {
    fh = await open(r.path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  const st = await fh.stat();
  if (!st.isFile()) {
    await fh.close();
    return undefined;
  }
  return { fh, size: st.size, format: r.format };
}
