// Config errors that carry where they are (file:line:col and the dotted path) and how to fix them.

export interface ConfigIssue {
  file: string;
  line?: number;
  col?: number;
  /** dotted path like services.api.maxReplicas */
  path: string;
  message: string;
  fix?: string;
}

export function formatIssue(i: ConfigIssue): string {
  const where = i.line ? `${i.file}:${i.line}:${i.col ?? 1}` : i.file;
  return `${where}: ${i.path ? i.path + ': ' : ''}${i.message}${i.fix ? ` (fix: ${i.fix})` : ''}`;
}

/** Thrown when a config does not load; nothing from it is applied. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly issues: ConfigIssue[]) {
    super(issues.map(formatIssue).join('\n'));
  }
}

export function pathToString(path: ReadonlyArray<string | number | symbol>): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    // a key with spaces or control characters is quoted, so it cannot break the one-issue-per-line output
    else if (/[^\x21-\x7e]/.test(String(p))) out += `[${JSON.stringify(String(p))}]`;
    else out += (out ? '.' : '') + String(p);
  }
  return out;
}
