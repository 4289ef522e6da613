// HPA evaluations per second on one core: (a) one Resource cpu Utilization metric over 10 pods without behavior,
// (b) three metrics (cpu, a pods metric, an external queue) with behavior and controller history.
// Inputs are parsed once; the loop is evaluateHpa alone. Prints figures, never passes or fails.
import { computeMetricProposals, evaluateHpa, finalizeReplicas, parseHpaRequest, type HpaInput } from '../src/core/hpa/index.js';

const NOW = Date.parse('2024-01-01T01:00:00Z');
const iso = (offsetSeconds: number) => new Date(NOW + offsetSeconds * 1000).toISOString();

function pods(n: number, withQps: boolean): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => ({
    name: `web-${i}`,
    phase: 'Running',
    ready: true,
    startTime: iso(-3600),
    readyTransitionTime: iso(-3500),
    requests: { cpu: '500m', memory: '512Mi' },
    usage: { cpu: `${300 + 17 * i}m`, memory: '300Mi' },
    ...(withQps ? { metrics: { http_requests_per_second: `${40 + i}` } } : {}),
  }));
}

const single = parseHpaRequest({
  hpa: { minReplicas: 2, maxReplicas: 40, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } }] },
  currentReplicas: 10,
  now: iso(0),
  pods: pods(10, false),
  history: { recommendations: [{ time: iso(-60), replicas: 10 }, { time: iso(-30), replicas: 11 }] },
});

const multi = parseHpaRequest({
  hpa: {
    minReplicas: 2,
    maxReplicas: 40,
    metrics: [
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } },
      { type: 'Pods', pods: { metric: { name: 'http_requests_per_second' }, target: { type: 'AverageValue', averageValue: '40' } } },
      { type: 'External', external: { metric: { name: 'queue_depth', selector: { matchLabels: { queue: 'orders' } } }, target: { type: 'AverageValue', averageValue: '30' } } },
    ],
    behavior: {
      scaleUp: { stabilizationWindowSeconds: 60, policies: [{ type: 'Percent', value: 100, periodSeconds: 60 }, { type: 'Pods', value: 4, periodSeconds: 60 }], selectPolicy: 'Max' },
      scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: 'Percent', value: 10, periodSeconds: 60 }], selectPolicy: 'Min', tolerance: '0.05' },
    },
  },
  currentReplicas: 10,
  now: iso(0),
  pods: pods(10, true),
  externalMetrics: [{ metric: { name: 'queue_depth', selector: { matchLabels: { queue: 'orders' } } }, values: ['420'] }],
  history: {
    recommendations: Array.from({ length: 20 }, (_, i) => ({ time: iso(-15 * (i + 1)), replicas: 8 + (i % 5) })),
    scaleUpEvents: [{ time: iso(-45), change: 2 }, { time: iso(-200), change: 3 }],
    scaleDownEvents: [{ time: iso(-400), change: 1 }],
  },
});

function measure(label: string, input: HpaInput, fn: (input: HpaInput) => number, seconds = 2): void {
  let sink = 0;
  for (let i = 0; i < 200_000; i++) sink += fn(input);
  let n = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(Math.round(seconds * 1e9));
  let elapsed = 0n;
  while (elapsed < budget) {
    for (let i = 0; i < 10_000; i++) {
      input.now = NOW + (i & 7);
      sink += fn(input);
    }
    n += 10_000;
    elapsed = process.hrtime.bigint() - start;
  }
  const perSecond = n / (Number(elapsed) / 1e9);
  const ns = Number(elapsed) / n;
  console.log(`${label.padEnd(62)} ${Math.round(perSecond).toLocaleString('en-US').padStart(12)} /s  ${ns.toFixed(0).padStart(5)} ns each  (check ${sink % 1000})`);
}

console.log(`HPA evaluations per second (Node ${process.version}, one core)`);
measure('(a) 1 Resource cpu metric, 10 pods, no behavior: evaluateHpa', single, (i) => evaluateHpa(i).desiredReplicas);
measure('(b) 3 metrics, behavior and history: evaluateHpa', multi, (i) => evaluateHpa(i).desiredReplicas);
measure('    (a) computeMetricProposals only', single, (i) => computeMetricProposals(i).replicas);
measure('    (b) computeMetricProposals only', multi, (i) => computeMetricProposals(i).replicas);
measure('    (b) finalizeReplicas only', multi, (i) =>
  finalizeReplicas({ currentReplicas: 10, minReplicas: 2, maxReplicas: 40, behavior: i.behavior, proposed: 14, history: i.history, now: i.now, options: i.options }).desiredReplicas);
