// Heavy client libraries load on first use, so a process that never talks to Kubernetes, Docker or Redis does not
// carry them (the Kubernetes client alone is ~75 MB of RSS).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export function kubeClient(): typeof import('@kubernetes/client-node') {
  return require('@kubernetes/client-node') as typeof import('@kubernetes/client-node');
}

export function dockerode(): typeof import('dockerode') {
  return require('dockerode') as typeof import('dockerode');
}

export function undici(): typeof import('undici') {
  return require('undici') as typeof import('undici');
}

export function pg(): typeof import('pg') {
  return require('pg') as typeof import('pg');
}

export function ioredis(): typeof import('ioredis') {
  return require('ioredis') as typeof import('ioredis');
}
