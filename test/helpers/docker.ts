// A private Docker Engine for tests: Debian's dockerd (docker.io) on its own unix socket, data-root and exec-root in a
// temp dir, no iptables and no default bridge, so it touches nothing else on the machine. Images are made locally
// (there is no registry): `docker import` of a root filesystem holding busybox, or the node binary with its shared
// libraries (enough to run examples/sample-service/server.mjs in a container).
//
//   const engine = await startDockerd();          // engine.socketPath, engine.env (DOCKER_HOST for children)
//   await engine.importNodeImage('scalepilot-test/node:local');
//   engine.docker(['ps', '-a']);                   // the Debian docker CLI against this engine; throws on failure
//   ... finally: await engine.stop();              // removes containers, networks, images, stops dockerd, unmounts, deletes
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { requireBinary, sleep, tempDir } from './env.js';

export const DOCKERD = '/usr/sbin/dockerd';
/** Debian's docker CLI (20.10); a newer client elsewhere in PATH may exist on a developer machine but not in CI. */
export const DOCKER_CLI = '/usr/bin/docker';
export const DOCKER_COMPOSE = '/usr/bin/docker-compose';
export const BUSYBOX = '/bin/busybox';

export interface PrivateDockerd {
  socketPath: string;
  /** DOCKER_HOST=unix://... for child processes (docker CLI, docker-compose, scalepilot run) */
  env: NodeJS.ProcessEnv;
  dir: string;
  /** runs the Debian docker CLI against this engine; returns stdout, throws with stderr on failure */
  docker(args: string[], input?: string | Buffer): string;
  /** an image with /bin/busybox and the usual applets linked (sh, sleep, wget, httpd) */
  importBusyboxImage(tag: string): string;
  /** an image with the node binary at its host path, its shared libraries and busybox (for healthchecks) */
  importNodeImage(tag: string): string;
  log(): string;
  stop(): Promise<void>;
}

const started = new Set<ChildProcess>();
process.once('exit', () => {
  // Last resort when a suite dies without stop(): dockerd stops its containers and containerd on SIGTERM.
  for (const c of started) {
    try {
      c.kill('SIGTERM');
    } catch {
      // already gone
    }
  }
});

/**
 * Each engine gets its own address pool so two suites' bridge networks never overlap on the host: a 10.X.0.0/16 no
 * route on the host uses yet (suites running at the same time have their bridges' routes in /proc/net/route).
 */
function addressPool(): string {
  const used = new Set<number>();
  try {
    for (const line of readFileSync('/proc/net/route', 'utf8').split('\n').slice(1)) {
      const dest = line.split('\t')[1];
      if (!dest || dest.length !== 8) continue;
      // little-endian hex: the first octet is the last byte
      const first = parseInt(dest.slice(6, 8), 16);
      if (first === 10) used.add(parseInt(dest.slice(4, 6), 16));
    }
  } catch {
    // no /proc/net/route: fall back to chance
  }
  const free = Array.from({ length: 100 }, (_, i) => 100 + i).filter((x) => !used.has(x));
  const second = free[Math.floor(Math.random() * free.length)] ?? 100 + Math.floor(Math.random() * 100);
  return `base=10.${second}.0.0/16,size=24`;
}

export async function startDockerd(): Promise<PrivateDockerd> {
  requireBinary(DOCKERD, 'docker.io');
  requireBinary(DOCKER_CLI, 'docker.io');
  requireBinary('/usr/bin/containerd', 'containerd');
  if (process.getuid?.() !== 0) throw new Error('the Docker tests need root: dockerd must run as root to create containers');
  const tmp = tempDir('sp-dockerd-');
  const dir = tmp.path;
  const socketPath = join(dir, 'docker.sock');
  const args = [
    '--host', `unix://${socketPath}`,
    '--data-root', join(dir, 'root'),
    '--exec-root', join(dir, 'exec'),
    '--pidfile', join(dir, 'dockerd.pid'),
    '--iptables=false', '--ip-masq=false', '--bridge=none',
    '--default-address-pool', addressPool(),
    '--log-level', 'warn',
  ];
  const child = spawn(DOCKERD, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(child);
  let out = '';
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > 64_000) out = out.slice(-32_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.once('exit', () => started.delete(child));
  const env = { ...process.env, DOCKER_HOST: `unix://${socketPath}` };

  const docker = (a: string[], input?: string | Buffer): string => {
    const r = spawnSync(DOCKER_CLI, a, { env, input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
    if (r.status !== 0) throw new Error(`docker ${a.join(' ')} failed (${r.status ?? r.signal}): ${(r.stderr || r.error?.message || '').trim()}`);
    return r.stdout;
  };

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      tmp.cleanup();
      throw new Error(`dockerd exited (${child.exitCode ?? child.signalCode}) before it answered:\n${out.slice(-3000)}`);
    }
    if (existsSync(socketPath) && spawnSync(DOCKER_CLI, ['version', '--format', '{{.Server.Version}}'], { env, timeout: 5000 }).status === 0) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      tmp.cleanup();
      throw new Error(`dockerd did not answer on ${socketPath} within 30 s:\n${out.slice(-3000)}`);
    }
    await sleep(200);
  }

  const images: string[] = [];
  const importRootfs = (tag: string, files: string[], applets: string[], cmd: string): string => {
    const root = join(dir, `rootfs-${images.length}`);
    for (const f of files) {
      mkdirSync(join(root, dirname(f)), { recursive: true });
      copyFileSync(f, join(root, f));
    }
    mkdirSync(join(root, 'bin'), { recursive: true });
    for (const a of applets) {
      const r = spawnSync('ln', ['-sf', 'busybox', join(root, 'bin', a)]);
      if (r.status !== 0) throw new Error(`cannot link busybox applet ${a}`);
    }
    for (const d of ['tmp', 'etc', 'proc', 'sys', 'dev']) mkdirSync(join(root, d), { recursive: true });
    writeFileSync(join(root, 'etc', 'passwd'), 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n');
    writeFileSync(join(root, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
    const tar = spawnSync('tar', ['-C', root, '-c', '.'], { maxBuffer: 512 * 1024 * 1024 });
    if (tar.status !== 0) throw new Error(`tar of ${root} failed: ${tar.stderr}`);
    docker(['import', '--change', `CMD ${cmd}`, '-', tag], tar.stdout);
    spawnSync('rm', ['-rf', root]);
    images.push(tag);
    return tag;
  };
  const applets = ['sh', 'sleep', 'wget', 'httpd', 'cat', 'ls', 'kill', 'true', 'nc'];

  let stopped: Promise<void> | undefined;
  const stop = async () => {
    // Containers, networks and images first (the engine's own cleanup), then the daemon, then whatever it left mounted.
    try {
      const ids = docker(['ps', '-aq']).split('\n').filter(Boolean);
      if (ids.length) docker(['rm', '-f', '-v', ...ids]);
      docker(['network', 'prune', '-f']);
      for (const img of images) spawnSync(DOCKER_CLI, ['image', 'rm', '-f', img], { env, timeout: 30_000 });
    } catch {
      // the daemon may be the thing that failed; stopping it below still cleans up
    }
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(t);
    }
    // containerd started by this dockerd normally exits with it; make sure.
    const cpid = join(dir, 'exec', 'containerd', 'containerd.pid');
    if (existsSync(cpid)) {
      const pid = Number(readFileSync(cpid, 'utf8').trim());
      if (pid > 0) {
        try {
          process.kill(pid, 0);
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
    unmountUnder(dir);
    tmp.cleanup();
  };

  return {
    socketPath,
    env,
    dir,
    docker,
    importBusyboxImage: (tag) => importRootfs(tag, [BUSYBOX], applets, '["/bin/sh"]'),
    importNodeImage: (tag) => {
      const node = process.execPath;
      const ldd = spawnSync('ldd', [node], { encoding: 'utf8' });
      if (ldd.status !== 0) throw new Error(`ldd ${node} failed: ${ldd.stderr}`);
      const libs = [...ldd.stdout.matchAll(/(\/[^\s]+)/g)].map((m) => m[1]!).filter((p) => existsSync(p));
      return importRootfs(tag, [node, BUSYBOX, ...new Set(libs)], applets, `["${node}"]`);
    },
    log: () => out,
    stop: () => (stopped ??= stop()),
  };
}

/** Unmounts (lazily, deepest first) anything still mounted below dir: overlay layers, shm, netns. */
export function unmountUnder(dir: string): void {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m === dir || m.startsWith(dir + '/'))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) spawnSync('umount', ['-l', m]);
}

/** The docker-compose v1 binary (Debian's docker-compose), or a clear failure. */
export function requireDockerCompose(): string {
  return requireBinary(DOCKER_COMPOSE, 'docker-compose');
}
