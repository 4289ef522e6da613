// Process source: /proc parsing tables, the per-PID delta rules on a fake /proc, and real child processes.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { parseProcessConfig, parseProcStat, parseVmRss, ProcessSource } from '../../src/metrics/process.js';
import { MetricError } from '../../src/metrics/types.js';
import { sleep, tempDir } from '../helpers/env.js';

describe('parseProcStat', () => {
  const line = (comm: string, state = 'R', utime = 120, stime = 30, starttime = 98765) =>
    `4242 (${comm}) ${state} 1 4242 4242 0 -1 4194304 1000 0 0 0 ${utime} ${stime} 7 3 20 0 1 0 ${starttime} 10000000 2500 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0`;
  const cases: Array<[string, string, Partial<ReturnType<typeof parseProcStat>>]> = [
    ['plain name', line('node'), { pid: 4242, ppid: 1, state: 'R', utime: 120, stime: 30, cutime: 7, cstime: 3, starttime: 98765 }],
    ['name with spaces and parentheses', line('my (weird) app'), { pid: 4242, utime: 120, stime: 30, starttime: 98765 }],
    ['zombie', line('worker', 'Z', 5, 1), { state: 'Z', utime: 5, stime: 1 }],
  ];
  for (const [name, text, want] of cases) {
    test(name, () => {
      const got = parseProcStat(text);
      for (const [k, v] of Object.entries(want)) assert.equal(got[k as keyof typeof got], v, k);
    });
  }
  test('garbage is refused', () => {
    assert.throws(() => parseProcStat('hello'), /not a \/proc/);
    assert.throws(() => parseProcStat('1 (x) R 1 2 3'), /field \d+ is not a number/);
  });
  test('VmRSS from status', () => {
    assert.equal(parseVmRss('Name:\tnode\nVmPeak:\t  900 kB\nVmRSS:\t   51200 kB\nThreads:\t7\n'), 51200 * 1024);
    assert.equal(parseVmRss('Name:\tzombie\nState:\tZ (zombie)\n'), undefined);
  });
});

describe('parseProcessConfig', () => {
  test('defaults', () => {
    assert.deepEqual(parseProcessConfig({ type: 'process' }, 'sources.p'), {
      type: 'process', includeChildren: false, minWindowMs: 1000, firstSampleWindowMs: 0, clockTicks: 100, procRoot: '/proc',
    });
  });
  const bad: Array<[unknown, RegExp]> = [
    [{ type: 'process', minWindow: 'often' }, /sources\.p\.minWindow: "often" is not a duration/],
    [{ type: 'process', clockTicks: 0 }, /sources\.p\.clockTicks: must be at least 1/],
    [{ type: 'process', includeChildren: 'yes' }, /sources\.p\.includeChildren: must be true or false/],
    [{ type: 'process', pid: 1 }, /sources\.p\.pid: unknown field/],
  ];
  for (const [raw, re] of bad) test(`refuses ${JSON.stringify(raw)}`, () => assert.throws(() => parseProcessConfig(raw, 'sources.p'), re));
  test('query checks', () => {
    const src = new ProcessSource('p', parseProcessConfig({ type: 'process' }, 'sources.p'));
    assert.throws(() => src.checkQuery({ name: 'cpu', query: 'cpu_seconds' }, 'services.web.metrics.cpu'), /services\.web\.metrics\.cpu\.query: "cpu_seconds" is not a process metric; use cpu/);
    assert.throws(() => src.checkQuery({ name: 'cpu', query: 'cpu', params: { pids: [1, -2] } }, 'm'), /m\.params\.pids\[1\]: must be a positive whole number/);
    src.checkQuery({ name: 'cpu', query: 'cpu', params: { pids: [1], containers: [], pods: ['web-1'] } }, 'm');
  });
});

describe('CPU deltas on a fake /proc (injected clock)', () => {
  const dir = tempDir();
  after(() => dir.cleanup());
  const writeStat = (pid: number, ticks: number, starttime = 500, ppid = 1, cticks = 0) => {
    mkdirSync(join(dir.path, String(pid)), { recursive: true });
    writeFileSync(join(dir.path, String(pid), 'stat'), `${pid} (svc) S ${ppid} ${pid} ${pid} 0 -1 0 0 0 0 0 ${ticks} 0 ${cticks} 0 20 0 1 0 ${starttime} 0 0`);
  };
  let now = 0;
  const src = new ProcessSource('p', parseProcessConfig({ type: 'process', procRoot: dir.path }, 'sources.p'), { clock: () => now });
  const q = (pids: number[], includeChildren = false) => ({ name: 'cpu', query: 'cpu', params: { pids, includeChildren } });

  test('first read is a retryable miss; the next one is Δticks/100/Δs', async () => {
    writeStat(10, 1000);
    now = 0;
    await assert.rejects(src.sample(q([10]), new Date(0)), (e: unknown) => e instanceof MetricError && e.retryable && /pid 10: first reading/.test(e.message));
    writeStat(10, 1150);
    now = 1500;
    const s = await src.sample(q([10]), new Date(1500));
    assert.deepEqual(s, [{ labels: { pid: '10' }, t: 1500, value: 1 }]); // 150 ticks = 1.5 s of CPU in 1.5 s
  });

  test('a read within minWindow returns the last value with its own time', async () => {
    writeStat(10, 1160);
    now = 1800;
    assert.deepEqual(await src.sample(q([10]), new Date(1800)), [{ labels: { pid: '10' }, t: 1500, value: 1 }]);
    now = 3500; // 1160 - 1150 = 10 ticks over 2 s since the 1500 baseline
    assert.deepEqual(await src.sample(q([10]), new Date(3500)), [{ labels: { pid: '10' }, t: 3500, value: 0.05 }]);
  });

  test('a reused PID (new start time) starts over; new PIDs are left out, not guessed', async () => {
    writeStat(10, 5, 900);
    writeStat(11, 400);
    now = 5000;
    await assert.rejects(src.sample(q([10, 11]), new Date(5000)), /pid 10: first reading.*pid 11: first reading/);
    writeStat(10, 105, 900);
    writeStat(11, 450);
    writeStat(12, 0);
    now = 6000;
    const s = await src.sample(q([10, 11, 12]), new Date(6000));
    assert.deepEqual(s.map((x) => [x.labels.pid, x.value]), [['10', 1], ['11', 0.5]]);
  });

  test('a vanished PID is reported; includeChildren sums the live tree', async () => {
    await assert.rejects(src.sample(q([99]), new Date(0)), /pid 99: no such process/);
    writeStat(20, 100, 500, 1, 0);
    writeStat(21, 50, 600, 20);
    writeStat(22, 10, 700, 21);
    now = 10_000;
    await assert.rejects(src.sample(q([20], true), new Date(10_000)), /first reading/);
    writeStat(20, 110, 500, 1, 0);
    writeStat(21, 90, 600, 20);
    writeStat(22, 60, 700, 21);
    now = 11_000;
    // (10 + 40 + 50) ticks in 1 s
    assert.deepEqual((await src.sample(q([20], true), new Date(11_000)))[0]!.value, 1);
    // the grandchild exits and is reaped by 21: its time moves to 21's cutime, so the sum does not drop
    writeStat(21, 90, 600, 20, 60);
    rmSync(join(dir.path, '22'), { recursive: true });
    now = 12_000;
    assert.deepEqual((await src.sample(q([20], true), new Date(12_000)))[0]!.value, 0);
  });
});

describe('real processes', () => {
  const children: ChildProcess[] = [];
  after(() => {
    // Shell children run in their own process group so their grandchildren go too.
    for (const c of children) {
      try {
        process.kill(-c.pid!, 'SIGKILL');
      } catch {
        c.kill('SIGKILL');
      }
    }
  });
  const start = (script: string, opts: { shell?: boolean; ipc?: boolean } = {}) => {
    const c = opts.shell
      ? spawn('sh', ['-c', script], { stdio: 'ignore', detached: true })
      : spawn(process.execPath, ['-e', script], { stdio: opts.ipc ? ['ignore', 'ignore', 'inherit', 'ipc'] : 'ignore', detached: true });
    children.push(c);
    return c;
  };
  /** Asks a burner for its own CPU time (process.cpuUsage, µs) and the time of the answer. */
  const ownCpu = (c: ChildProcess) => new Promise<{ us: number; at: number }>((resolve) => {
    c.once('message', (m: { user: number; system: number }) => resolve({ us: m.user + m.system, at: performance.now() }));
    c.send('cpu?');
  });
  // Burns in 5 ms slices so it answers IPC promptly; stops by itself after 30 s.
  const BURNER = `process.on('message', () => process.send(process.cpuUsage()));
    const end = Date.now() + 30000;
    (function burn() { const e = Date.now() + 5; while (Date.now() < e) {} if (Date.now() < end) setImmediate(burn); else process.exit(0); })();`;

  test('a CPU burner reads what it reports for itself; a sleeper reads near zero', async () => {
    const burner = start(BURNER, { ipc: true });
    const sleeper = start('setTimeout(() => {}, 30000)');
    const src = new ProcessSource('p', parseProcessConfig({ type: 'process' }, 'sources.p'));
    const q = { name: 'cpu', query: 'cpu', params: { pids: [burner.pid!, sleeper.pid!] } };
    await ownCpu(burner); // started and answering
    await assert.rejects(src.sample(q, new Date()), (e: unknown) => e instanceof MetricError && e.retryable && /first reading/.test(e.message));
    const a = await ownCpu(burner);
    await sleep(1500);
    const s = await src.sample(q, new Date());
    const b = await ownCpu(burner);
    const byPid = new Map(s.map((x) => [x.labels.pid, x.value]));
    const hot = byPid.get(String(burner.pid))!;
    const cold = byPid.get(String(sleeper.pid))!;
    const own = (b.us - a.us) / 1e6 / ((b.at - a.at) / 1000);
    // The machine may be shared, so the burner's share of a core varies; the two readings must agree.
    assert.ok(hot > 0.05 && hot <= 1.1, `burner ${hot} cores`);
    assert.ok(Math.abs(hot - own) <= 0.05 + 0.2 * own, `source ${hot} cores vs the process's own ${own}`);
    assert.ok(cold >= 0 && cold < 0.05, `sleeper ${cold} cores`);
  });

  test('firstSampleWindow gives a value on the first call; includeChildren counts a busy child', async () => {
    const parent = start(`exec 2>/dev/null; ${process.execPath} -e 'const end = Date.now() + 30000; while (Date.now() < end) {}' & wait`, { shell: true });
    let child: number | undefined;
    for (let i = 0; i < 50 && !child; i++) {
      await sleep(50);
      child = Number(readFileSync(`/proc/${parent.pid}/task/${parent.pid}/children`, 'utf8').trim().split(/\s+/)[0]) || undefined;
    }
    assert.ok(child, 'the shell started its child');
    await sleep(200);
    const src = new ProcessSource('p', parseProcessConfig({ type: 'process', firstSampleWindow: '1s' }, 'sources.p'));
    const read = async (pid: number, includeChildren: boolean) =>
      (await src.sample({ name: 'cpu', query: 'cpu', params: { pids: [pid], includeChildren } }, new Date()))[0]!.value;
    // Concurrent calls read over the same window.
    const [shellAlone, shellTree, childAlone] = await Promise.all([read(parent.pid!, false), read(parent.pid!, true), read(child!, false)]);
    assert.ok(shellAlone < 0.02, `shell alone ${shellAlone}`);
    assert.ok(childAlone > 0.05 && childAlone <= 1.1, `child ${childAlone}`);
    assert.ok(Math.abs(shellTree - childAlone) <= 0.05 + 0.1 * childAlone, `shell tree ${shellTree} vs child ${childAlone}`);
  });

  test('memory is RSS bytes; an exited process is an error', async () => {
    // the big one says when its 200 MB are written (a loaded machine takes longer than any fixed wait)
    const big = start(`const b = Buffer.alloc(200e6, 1); process.send('filled', () => process.disconnect()); setTimeout(() => b.length, 30000)`, { ipc: true });
    const small = start('setTimeout(() => {}, 30000)');
    await new Promise((r) => big.once('message', r));
    await sleep(300);
    const src = new ProcessSource('p', parseProcessConfig({ type: 'process' }, 'sources.p'));
    const s = await src.sample({ name: 'memory', query: 'memory', params: { pids: [big.pid!, small.pid!] } }, new Date());
    const byPid = new Map(s.map((x) => [x.labels.pid, x.value]));
    assert.ok(byPid.get(String(big.pid))! >= 200e6, `big ${byPid.get(String(big.pid))}`);
    assert.ok(byPid.get(String(small.pid))! < 150e6 && byPid.get(String(small.pid))! > 5e6, `small ${byPid.get(String(small.pid))}`);
    const exited = new Promise((r) => small.once('exit', r));
    small.kill('SIGKILL');
    await exited;
    await assert.rejects(src.sample({ name: 'memory', query: 'memory', params: { pids: [small.pid!] } }, new Date()), /no such process/);
  });
});
