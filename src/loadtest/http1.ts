// The load generator's plain-HTTP hot path: one keep-alive connection per slot, each request serialised once before the
// run, and a response parser that reads only the status line and the framing headers, straight out of one reused read
// buffer. Nothing is allocated per request on the common path; undici still serves HTTPS and unusual requests.
import { connect, type Socket } from 'node:net';
import type { Endpoint } from './target.js';

/** Where a connection reports its outcome; `slot` is the caller's connection index. */
export interface ResponseSink {
  /** A complete final response (status >= 200) arrived. */
  onResponse(slot: number, status: number): void;
  /** The request failed (connect, reset, timeout, malformed response); the connection is already closed. */
  onError(slot: number, err: Error): void;
  /** Body bytes read, as undici reports them. */
  onBody(bytes: number): void;
}

/** Headers whose meaning this client does not implement; requests that set them go through undici. */
const UNHANDLED_HEADERS = new Set(['connection', 'content-length', 'transfer-encoding', 'expect', 'upgrade', 'te', 'keep-alive']);

/** Whether the lean client can send these endpoints to `target` exactly as undici would. */
export function leanEligible(target: URL, endpoints: readonly Endpoint[]): boolean {
  if (target.protocol !== 'http:') return false;
  return endpoints.every((e) => Object.keys(e.headers).every((h) => !UNHANDLED_HEADERS.has(h)));
}

/** The request bytes for one endpoint, written as is for every request to it. */
export function serialiseRequest(target: URL, e: Endpoint): Buffer {
  let head = `${e.method} ${e.path} HTTP/1.1\r\n`;
  if (!('host' in e.headers)) head += `host: ${target.host}\r\n`;
  for (const [k, v] of Object.entries(e.headers)) head += `${k}: ${v}\r\n`;
  const body = e.body !== undefined ? Buffer.from(e.body, 'utf8') : undefined;
  if (body) head += `content-length: ${body.length}\r\n`;
  else if (e.method === 'POST' || e.method === 'PUT' || e.method === 'PATCH') head += 'content-length: 0\r\n';
  head += '\r\n';
  return body ? Buffer.concat([Buffer.from(head, 'latin1'), body]) : Buffer.from(head, 'latin1');
}

/** An error carrying a code errorKind() knows. */
export function codedError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

const enum State { Idle, Head, Length, ChunkSize, ChunkData, ChunkEnd, Trailers, UntilClose }

const CRLFCRLF = Buffer.from('\r\n\r\n');
/** A response head larger than this is refused rather than buffered without bound. */
const MAX_HEAD = 64 * 1024;

/** Case-insensitive match of header name `name` (lower case) at b[start, start + name.length). */
function nameIs(b: Buffer, start: number, len: number, name: string): boolean {
  if (len !== name.length) return false;
  for (let k = 0; k < len; k++) if ((b[start + k]! | 0x20) !== name.charCodeAt(k)) return false;
  return true;
}

/** Whether the lower-cased bytes b[start, end) contain `word`. */
function valueHas(b: Buffer, start: number, end: number, word: string): boolean {
  const n = word.length;
  outer: for (let i = start; i + n <= end; i++) {
    for (let k = 0; k < n; k++) if ((b[i + k]! | 0x20) !== word.charCodeAt(k)) continue outer;
    return true;
  }
  return false;
}

class Connection {
  private sock: Socket | null = null;
  private state = State.Idle;
  /** The request in flight is a HEAD (its response has no body whatever the headers say). */
  private head = false;
  private status = 0;
  private remaining = 0;
  private closeAfter = false;
  /** Bytes of a response head split across reads. */
  private partial: Buffer | null = null;
  private sawChunkDigit = false;
  private inChunkExt = false;
  private trailerLineLen = 0;
  private error: Error | null = null;
  /** performance.now() after which the request in flight times out. */
  deadline = Infinity;

  constructor(private readonly pool: Http1Pool, private readonly slot: number) {}

  get busy(): boolean {
    return this.state !== State.Idle;
  }

  send(req: Buffer, isHead: boolean, now: number): void {
    if (!this.sock) this.open();
    this.state = State.Head;
    this.head = isHead;
    this.deadline = now + this.pool.timeoutMs;
    this.sock!.write(req);
  }

  private open(): void {
    const s = connect({
      host: this.pool.host,
      port: this.pool.port,
      noDelay: true,
      onread: { buffer: this.pool.readBuffer, callback: (n: number, b: Uint8Array) => this.onRead(n, b as Buffer) },
    });
    this.sock = s;
    this.error = null;
    this.partial = null;
    s.on('error', (e) => { if (this.sock === s) this.error = e; });
    s.on('close', () => this.onClose(s));
  }

  /** Closes the socket; a request in flight fails with `err`. */
  fail(err: Error): void {
    const s = this.sock;
    this.sock = null;
    s?.destroy();
    if (this.state !== State.Idle) this.finish(-1, err);
  }

  destroy(): void {
    const s = this.sock;
    this.sock = null;
    this.state = State.Idle;
    s?.destroy();
  }

  private onClose(s: Socket): void {
    if (this.sock !== s) return;
    this.sock = null;
    if (this.state === State.UntilClose) this.finish(this.status, null);
    else if (this.state !== State.Idle) {
      this.finish(-1, this.error ?? codedError('the server closed the connection before the response ended', 'ECONNRESET'));
    }
  }

  private finish(status: number, err: Error | null): void {
    this.state = State.Idle;
    this.deadline = Infinity;
    if (err) this.pool.sink.onError(this.slot, err);
    else this.pool.sink.onResponse(this.slot, status);
  }

  /** Called with a read's bytes in the pool's shared buffer; everything needed later is copied out before returning. */
  private onRead(n: number, b: Buffer): boolean {
    if (this.state === State.Idle) return true; // nothing asked for: a server's goodbye (408, close) is not a response
    let i = 0;
    if (this.partial) {
      b = Buffer.concat([this.partial, b.subarray(0, n)]);
      n = b.length;
      this.partial = null;
    }
    while (i < n && this.busy) {
      switch (this.state) {
        case State.Head: {
          const at = b.indexOf(CRLFCRLF, i);
          if (at < 0 || at + 4 > n) {
            // a match past n would be stale bytes of an earlier read in the shared buffer, not this response
            if (n - i > MAX_HEAD) { this.fail(codedError('response head over 64 KiB', 'HPE_HEADER_OVERFLOW')); return true; }
            this.partial = Buffer.from(b.subarray(i, n));
            i = n;
            break;
          }
          if (!this.parseHead(b, i, at)) return true;
          i = at + 4;
          break;
        }
        case State.Length: {
          const take = Math.min(this.remaining, n - i);
          this.remaining -= take;
          i += take;
          this.pool.sink.onBody(take);
          if (this.remaining === 0) this.complete();
          break;
        }
        case State.ChunkSize: {
          const c = b[i++]!;
          if (c === 0x0a) {
            if (!this.sawChunkDigit) { this.fail(codedError('malformed chunk size', 'HPE_INVALID_CHUNK_SIZE')); return true; }
            this.sawChunkDigit = false;
            this.inChunkExt = false;
            if (this.remaining === 0) { this.state = State.Trailers; this.trailerLineLen = 0; }
            else this.state = State.ChunkData;
          } else if (this.inChunkExt || c === 0x0d) {
            // chunk extensions are ignored
          } else if (c === 0x3b || c === 0x20 || c === 0x09) {
            this.inChunkExt = true;
          } else {
            const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : (c | 0x20) >= 0x61 && (c | 0x20) <= 0x66 ? (c | 0x20) - 0x57 : -1;
            if (d < 0 || this.remaining > 0xfffffff) { this.fail(codedError('malformed chunk size', 'HPE_INVALID_CHUNK_SIZE')); return true; }
            this.remaining = this.remaining * 16 + d;
            this.sawChunkDigit = true;
          }
          break;
        }
        case State.ChunkData: {
          const take = Math.min(this.remaining, n - i);
          this.remaining -= take;
          i += take;
          this.pool.sink.onBody(take);
          if (this.remaining === 0) { this.state = State.ChunkEnd; this.remaining = 2; }
          break;
        }
        case State.ChunkEnd: {
          // the CRLF after a chunk's data
          i++;
          if (--this.remaining === 0) this.state = State.ChunkSize;
          break;
        }
        case State.Trailers: {
          const c = b[i++]!;
          if (c === 0x0a) {
            if (this.trailerLineLen === 0) this.complete();
            else this.trailerLineLen = 0;
          } else if (c !== 0x0d) {
            this.trailerLineLen++;
          }
          break;
        }
        case State.UntilClose: {
          this.pool.sink.onBody(n - i);
          i = n;
          break;
        }
      }
    }
    // a response still arriving keeps the request alive as long as bytes keep coming, like undici's body timeout
    if (this.busy) this.deadline = performance.now() + this.pool.timeoutMs;
    return true;
  }

  /** Reads status and framing from the head in b[start, end) (end at its blank line); false if the connection failed. */
  private parseHead(b: Buffer, start: number, end: number): boolean {
    // "HTTP/1.1 200 ..."
    if (end - start < 12 || b[start] !== 0x48 || b[start + 4] !== 0x2f || b[start + 8] !== 0x20) {
      this.fail(codedError('malformed HTTP response', 'HPE_INVALID_CONSTANT'));
      return false;
    }
    const status = (b[start + 9]! - 0x30) * 100 + (b[start + 10]! - 0x30) * 10 + (b[start + 11]! - 0x30);
    if (!(status >= 100 && status <= 999)) {
      this.fail(codedError('malformed HTTP status', 'HPE_INVALID_STATUS'));
      return false;
    }
    const http10 = b[start + 7] === 0x30;
    let length = -1;
    let chunked = false;
    let close = false;
    let keepAlive = false;
    let line = b.indexOf(0x0a, start) + 1;
    while (line > 0 && line < end) {
      let eol = b.indexOf(0x0a, line);
      if (eol < 0 || eol > end) eol = end;
      const colon = b.indexOf(0x3a, line);
      if (colon > line && colon < eol) {
        const len = colon - line;
        const first = b[line]! | 0x20;
        let vs = colon + 1;
        let ve = b[eol - 1] === 0x0d ? eol - 1 : eol;
        while (vs < ve && (b[vs] === 0x20 || b[vs] === 0x09)) vs++;
        while (ve > vs && (b[ve - 1] === 0x20 || b[ve - 1] === 0x09)) ve--;
        if (first === 0x63 && nameIs(b, line, len, 'content-length')) {
          let v = 0;
          for (let k = vs; k < ve; k++) {
            const d = b[k]! - 0x30;
            if (d < 0 || d > 9) { this.fail(codedError('malformed content-length', 'HPE_INVALID_CONTENT_LENGTH')); return false; }
            v = v * 10 + d;
          }
          if (vs === ve || (length >= 0 && length !== v)) { this.fail(codedError('malformed content-length', 'HPE_INVALID_CONTENT_LENGTH')); return false; }
          length = v;
        } else if (first === 0x74 && nameIs(b, line, len, 'transfer-encoding')) {
          chunked = valueHas(b, vs, ve, 'chunked');
        } else if (first === 0x63 && nameIs(b, line, len, 'connection')) {
          if (valueHas(b, vs, ve, 'close')) close = true;
          if (valueHas(b, vs, ve, 'keep-alive')) keepAlive = true;
        }
      }
      line = eol + 1;
    }
    if (status < 200) {
      // 100 Continue and other interim responses precede the real one; an upgrade is not something a load test asked for
      if (status === 101) { this.fail(codedError('the server switched protocols', 'UND_ERR_SOCKET')); return false; }
      return true;
    }
    this.status = status;
    this.closeAfter = close || (http10 && !keepAlive);
    if (this.head || status === 204 || status === 304) this.complete();
    else if (chunked) { this.state = State.ChunkSize; this.remaining = 0; this.sawChunkDigit = false; this.inChunkExt = false; }
    else if (length >= 0) { this.remaining = length; this.state = State.Length; if (length === 0) this.complete(); }
    else { this.state = State.UntilClose; this.closeAfter = true; }
    return true;
  }

  private complete(): void {
    if (this.closeAfter) {
      const s = this.sock;
      this.sock = null;
      s?.destroy();
    }
    this.finish(this.status, null);
  }
}

/** The connections of one run; slot i is connection i. */
export class Http1Pool {
  readonly host: string;
  readonly port: number;
  /** One read buffer shared by every connection: each read is parsed to the end before the next one lands. */
  readonly readBuffer = Buffer.allocUnsafe(64 * 1024);
  private readonly conns: Connection[] = [];
  private readonly sweeper: NodeJS.Timeout;

  constructor(target: URL, readonly timeoutMs: number, readonly sink: ResponseSink) {
    this.host = target.hostname.replace(/^\[|\]$/g, '');
    this.port = Number(target.port || 80);
    // timeouts are checked on a coarse clock instead of arming a timer per request
    this.sweeper = setInterval(() => this.sweep(), Math.max(10, Math.min(250, timeoutMs / 5)));
    this.sweeper.unref();
  }

  send(slot: number, req: Buffer, isHead: boolean, now: number): void {
    let c = this.conns[slot];
    if (!c) {
      c = new Connection(this, slot);
      this.conns[slot] = c;
    }
    c.send(req, isHead, now);
  }

  private sweep(): void {
    const now = performance.now();
    for (const c of this.conns) {
      if (c && c.busy && now > c.deadline) c.fail(codedError(`no complete response within ${this.timeoutMs} ms`, 'ETIMEDOUT'));
    }
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const c of this.conns) c?.destroy();
  }
}
