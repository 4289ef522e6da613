// Summarises a V8 heap snapshot (.heapsnapshot) the way a heap profiler's "summary" view does: self size and count
// per constructor, with backing stores (array elements, property tables, hash tables, boxed numbers) counted under
// the object that owns them, so the table says which kinds of objects hold the memory.
// Usage: node --import tsx bench/lib/heap-summary.ts FILE [rows=25]
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]]; edge_fields: string[]; edge_types: [string[], ...unknown[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

export interface HeapRow { name: string; count: number; bytes: number }

/** Self size per owner class; nodes with one owner through an internal edge are charged to that owner. */
export function summarise(file: string): { total: number; rows: HeapRow[] } {
  const s = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const nf = s.snapshot.meta.node_fields;
  const ef = s.snapshot.meta.edge_fields;
  const nodeTypes = s.snapshot.meta.node_types[0];
  const edgeTypes = s.snapshot.meta.edge_types[0];
  const N = nf.length;
  const E = ef.length;
  const fType = nf.indexOf('type');
  const fName = nf.indexOf('name');
  const fSize = nf.indexOf('self_size');
  const fEdges = nf.indexOf('edge_count');
  const eType = ef.indexOf('type');
  const eTo = ef.indexOf('to_node');
  const count = s.nodes.length / N;
  const typeOf = (i: number) => nodeTypes[s.nodes[i * N + fType]!]!;
  const nameOf = (i: number) => {
    const t = typeOf(i);
    const n = s.strings[s.nodes[i * N + fName]!]!;
    if (t === 'object' || t === 'closure' || t === 'native') return t === 'closure' ? `(closure) ${n || 'anonymous'}` : n;
    if (t === 'string' || t === 'concatenated string' || t === 'sliced string') return '(string)';
    return `(${t}) ${n}`.trim();
  };
  // each node's (strong) retainer, and whether it has more than one
  const owner = new Int32Array(count).fill(-1);
  const owners = new Uint8Array(count);
  let e = 0;
  for (let i = 0; i < count; i++) {
    const n = s.nodes[i * N + fEdges]!;
    for (let k = 0; k < n; k++, e++) {
      const to = s.edges[e * E + eTo]! / N;
      const et = edgeTypes[s.edges[e * E + eType]!]!;
      if (et === 'weak' || et === 'shortcut') continue;
      if (owners[to]! < 2) owners[to]!++;
      owner[to] = i;
    }
  }
  const rows = new Map<string, HeapRow>();
  let total = 0;
  for (let i = 0; i < count; i++) {
    const size = s.nodes[i * N + fSize]!;
    total += size;
    const t = typeOf(i);
    let at = i;
    // a backing store with a single owner is charged to it (follow up to a few hops: elements of a table of a map)
    for (let hop = 0; hop < 4 && (t === 'array' || t === 'hidden' || t === 'number' || t === 'code') && owners[at] === 1 && owner[at]! >= 0; hop++) {
      at = owner[at]!;
      const ot = typeOf(at);
      if (ot === 'object' || ot === 'closure' || ot === 'native') break;
    }
    const name = nameOf(at);
    const r = rows.get(name) ?? { name, count: 0, bytes: 0 };
    if (at === i) r.count++;
    r.bytes += size;
    rows.set(name, r);
  }
  return { total, rows: [...rows.values()].sort((a, b) => b.bytes - a.bytes) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: bench/lib/heap-summary.ts FILE.heapsnapshot [rows=25]');
    process.exit(2);
  }
  const { total, rows } = summarise(file);
  console.log(`heap snapshot ${file}: ${(total / 1048576).toFixed(1)} MB in live objects`);
  for (const r of rows.slice(0, Number(process.argv[3] ?? 25))) {
    console.log(`  ${(r.bytes / 1048576).toFixed(2).padStart(7)} MB  ${String(r.count).padStart(8)}  ${r.name}`);
  }
}
