// Who drives a Compose service: a lease kept in the Docker Engine itself, so that two scalepilot runs (other configs,
// stores, state dirs or hosts) never scale one Compose service against each other. The Engine has no lock object, so
// the lease is a chain of labelled volumes, one per renewal: `scalepilot-lease-<key>-<epoch>`. A volume name is
// created once (the Engine answers a second create of the same name with the volume that exists), so writing epoch
// n + 1 is a compare-and-swap on the record with epoch n: whoever's nonce the created volume carries wrote it. The
// newest epoch is the record; older ones are removed once a newer one is written.
// As in client-go's leader election, a record held by another process is judged expired by this process's own clock:
// unchanged for the lease duration since this process first saw it, never by comparing clocks across machines. A
// holder on this same host (same boot) whose process is gone is expired at once, so a run restarted after kill -9
// takes its service back without waiting.
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { readFileSync, readlinkSync } from 'node:fs';
import type Docker from 'dockerode';
import { processAlive } from '../process-alive.js';

/** How long a record may go unrenewed before another process may take the lease over. */
export const LEASE_MS = 30_000;

const LABEL = 'io.scalepilot.lease';
/** Epoch names in a row taken by volumes that are no lease records before a write gives up and says which. */
const MAX_SQUATTED = 8;

/** One Engine call with its deadline, its failure reported as what was being done (the provider's engineCall). */
export type EngineCaller = <T>(doing: string, call: (signal: AbortSignal) => Promise<T>) => Promise<T>;

/** The holder of a lease as its record names it. */
export interface LeaseHolder {
  identity: string;
  host: string;
  pid: number;
  /** the holder's state dir, for the message that names it */
  stateDir: string;
  /** when the holder wrote the record, by its own clock (shown, never compared) */
  renewedAt: string;
}

interface LeaseRecord extends LeaseHolder {
  name: string;
  epoch: number;
  nonce: string;
  bootId: string;
}

/** The lease is held by another live scalepilot: this one must not act on the service. */
export class LeaseHeldElsewhere extends Error {
  override name = 'LeaseHeldElsewhere';
  constructor(readonly what: string, readonly holder: LeaseHolder, readonly expiresInMs: number) {
    super(
      `${what} is driven by another scalepilot (pid ${holder.pid} on ${holder.host}, state dir ${holder.stateDir}, ` +
        `lease renewed ${holder.renewedAt}); this run holds the service until that one stops, or until its lease goes ` +
        `${Math.ceil(expiresInMs / 1000)} s without renewal. Stop the other run, or give each Compose service to one config`,
    );
  }
}

let bootIdCache: string | undefined;
/**
 * This machine's boot and pid namespace: a holder recorded with the same host and the same of these is a process this
 * one can see, so a pid that is gone means the holder is gone ('' where /proc does not tell).
 */
function bootId(): string {
  if (bootIdCache === undefined) {
    try {
      bootIdCache = `${readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()}/${readlinkSync('/proc/self/ns/pid')}`;
    } catch {
      bootIdCache = '';
    }
  }
  return bootIdCache;
}

/** The volume-name-safe key of a Compose service on an Engine: project and service, hashed. */
export function leaseKey(project: string, service: string): string {
  return createHash('sha256').update(`${project}\0${service}`).digest('hex').slice(0, 24);
}

export interface EngineLeaseOptions {
  /** what the lease is for, as messages name it (project/service) */
  what: string;
  project: string;
  service: string;
  identity: string;
  stateDir: string;
  durationMs?: number;
  now?: () => number;
  /** the host and pid recorded (tests stand in for a holder on another machine) */
  host?: string;
  pid?: number;
}

export class EngineLease {
  readonly key: string;
  readonly durationMs: number;
  private readonly now: () => number;
  private readonly host: string;
  private readonly pid: number;
  /** the record this process wrote last, and when it started writing it (by its own clock) */
  private mine?: { name: string; nonce: string; epoch: number; writtenAt: number };
  /** another holder's record and when this process first saw it unchanged */
  private seen?: { name: string; at: number };
  private renewing?: Promise<void>;

  constructor(private readonly docker: Docker, private readonly call: EngineCaller, private readonly o: EngineLeaseOptions) {
    this.key = leaseKey(o.project, o.service);
    this.durationMs = o.durationMs ?? LEASE_MS;
    this.now = o.now ?? Date.now;
    this.host = o.host ?? hostname();
    this.pid = o.pid ?? process.pid;
  }

  /**
   * Takes the lease, or renews it when a third of its duration has passed; resolves when this process holds it.
   * Throws LeaseHeldElsewhere while another live holder has it, or the Engine's failure (the lease is then not held).
   */
  async hold(): Promise<void> {
    if (this.mine && this.now() - this.mine.writtenAt < this.durationMs / 3) return;
    // one write at a time: a sync and the renewal timer must not race each other for the next epoch
    return (this.renewing ??= this.holdOnce().finally(() => { this.renewing = undefined; }));
  }

  private async holdOnce(): Promise<void> {
    const records = await this.records();
    const top = records[records.length - 1];
    if (top && top.nonce !== this.mine?.nonce && top.identity !== this.o.identity) {
      // another holder's record: this process may take over only once it is expired
      const now = this.now();
      if (this.seen?.name !== top.name) this.seen = { name: top.name, at: now };
      const gone = top.host === this.host && top.bootId === bootId() && top.bootId !== '' && top.pid > 0 && !processAlive(top.pid);
      const left = this.seen.at + this.durationMs - now;
      if (!gone && left > 0) {
        this.mine = undefined;
        throw new LeaseHeldElsewhere(this.o.what, top, left);
      }
    }
    // a volume of the next epoch's name that is no lease record (made by hand, or by anything else) is stepped over
    const first = (top?.epoch ?? -1) + 1;
    let epoch = first;
    while (!(await this.write(epoch, records))) {
      if (++epoch - first >= MAX_SQUATTED) {
        throw new Error(`volumes scalepilot-lease-${this.key}-${first} to -${epoch - 1} exist but are not lease records; remove them (docker volume rm)`);
      }
    }
  }

  /**
   * Writes the record with this epoch; another process that wrote it first wins and this one does not hold. False when
   * a volume of that name exists that is no lease record of this key.
   */
  private async write(epoch: number, older: LeaseRecord[]): Promise<boolean> {
    const nonce = randomBytes(8).toString('hex');
    const name = `scalepilot-lease-${this.key}-${epoch}`;
    const writtenAt = this.now();
    const labels: Record<string, string> = {
      [LABEL]: this.key,
      [`${LABEL}.for`]: this.o.what,
      [`${LABEL}.epoch`]: String(epoch),
      [`${LABEL}.nonce`]: nonce,
      [`${LABEL}.identity`]: this.o.identity,
      [`${LABEL}.host`]: this.host,
      [`${LABEL}.pid`]: String(this.pid),
      [`${LABEL}.boot`]: bootId(),
      [`${LABEL}.state-dir`]: this.o.stateDir,
      [`${LABEL}.renewed`]: new Date(writtenAt).toISOString(),
    };
    await this.call(`writing the lease of ${this.o.what}`, (abortSignal) =>
      this.docker.createVolume({ Name: name, Labels: labels, abortSignal } as Docker.VolumeCreateOptions));
    // the Engine answers a create of a name that exists with success: the labels it holds say whose it is
    let v: { Labels?: Record<string, string> | null } | undefined;
    try {
      v = (await this.call(`reading the lease of ${this.o.what}`, (abortSignal) => this.docker.getVolume(name).inspect({ abortSignal }))) as typeof v;
    } catch (e) {
      // removed at once: a newer record was written by whoever wrote this one
      if (!/\b404\b|no such volume/i.test((e as Error).message)) throw e;
    }
    if (v && (v.Labels?.[LABEL] !== this.key || !parseRecord(name, v.Labels))) return false;
    const created = v?.Labels?.[`${LABEL}.nonce`];
    if (created !== nonce) {
      // someone else wrote this epoch first
      this.mine = undefined;
      const other = created !== undefined ? parseRecord(name, v!.Labels!) : undefined;
      if (other && other.identity !== this.o.identity) {
        this.seen = { name, at: this.now() };
        throw new LeaseHeldElsewhere(this.o.what, other, this.durationMs);
      }
      throw new Error(`the lease of ${this.o.what} changed while it was written; trying again at the next sync`);
    }
    this.mine = { name, nonce, epoch, writtenAt };
    this.seen = undefined;
    // the older records go; one left behind (a failed remove) is only ever older than the newest
    await Promise.all(older.map((r) => this.remove(r.name)));
    return true;
  }

  private async remove(name: string): Promise<void> {
    try {
      await this.call(`removing an old lease record of ${this.o.what}`, (abortSignal) => this.docker.getVolume(name).remove({ abortSignal }));
    } catch {
      // already gone, or the Engine is busy: the next renewal removes it
    }
  }

  /** The records of this key, oldest epoch first (volumes with malformed labels are left out). */
  private async records(): Promise<LeaseRecord[]> {
    const out = (await this.call(`reading the lease of ${this.o.what}`, (abortSignal) =>
      this.docker.listVolumes({ filters: { label: [`${LABEL}=${this.key}`] }, abortSignal } as object))) as { Volumes?: Array<{ Name: string; Labels?: Record<string, string> | null }> | null };
    const records: LeaseRecord[] = [];
    for (const v of out?.Volumes ?? []) {
      const r = v.Labels ? parseRecord(v.Name, v.Labels) : undefined;
      if (r) records.push(r);
    }
    return records.sort((a, b) => a.epoch - b.epoch);
  }

  /** Gives the lease up (its records removed), so another run may take the service at once. */
  async release(): Promise<void> {
    // a renewal under way writes a record of its own: released before it lands, that record would outlive the release
    await this.renewing?.catch(() => undefined);
    const mine = this.mine;
    this.mine = undefined;
    if (!mine) return;
    try {
      const records = await this.records();
      const top = records[records.length - 1];
      // only while the newest record is this process's own: one another process wrote since is not ours to remove
      if (top?.nonce === mine.nonce) await Promise.all(records.map((r) => this.remove(r.name)));
    } catch {
      // the Engine is unreachable: the lease expires by itself
    }
  }
}

function parseRecord(name: string, l: Record<string, string>): LeaseRecord | undefined {
  const epoch = Number(l[`${LABEL}.epoch`]);
  const pid = Number(l[`${LABEL}.pid`]);
  const nonce = l[`${LABEL}.nonce`];
  if (!Number.isSafeInteger(epoch) || epoch < 0 || !nonce) return undefined;
  return {
    name,
    epoch,
    nonce,
    identity: l[`${LABEL}.identity`] ?? '',
    host: l[`${LABEL}.host`] ?? '?',
    pid: Number.isSafeInteger(pid) && pid > 0 ? pid : 0,
    bootId: l[`${LABEL}.boot`] ?? '',
    stateDir: l[`${LABEL}.state-dir`] ?? '?',
    renewedAt: l[`${LABEL}.renewed`] ?? '?',
  };
}
