// The shape of an autoscaling/v2 MetricSpec in scalepilot.yaml, field for field, so a misspelt or invented key is
// refused at load (as `kubectl apply` with strict field validation refuses it) instead of being exported verbatim.
// Values are checked by core/hpa/parse.ts, which also serves `hpa evaluate`.
import { z } from 'zod';

// YAML reads .inf and 1e400 as Infinity; as text it reaches the quantity parser, whose message names the problem
const QuantityValue = z.preprocess((v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), z.union([z.string(), z.number()]));

const LabelSelector = z.strictObject({
  matchLabels: z.record(z.string(), z.string()).optional(),
  matchExpressions: z
    .array(z.strictObject({ key: z.string(), operator: z.string(), values: z.array(z.string()).optional() }))
    .optional(),
});

const MetricIdentifier = z.strictObject({ name: z.string(), selector: LabelSelector.optional() });

const MetricTarget = z.strictObject({
  type: z.enum(['Utilization', 'Value', 'AverageValue']),
  value: QuantityValue.optional(),
  averageValue: QuantityValue.optional(),
  averageUtilization: z.number().optional(),
});

const StrictMetricSpec = z.strictObject({
  type: z.enum(['Resource', 'ContainerResource', 'Pods', 'Object', 'External']),
  resource: z.strictObject({ name: z.string(), target: MetricTarget }).optional(),
  containerResource: z.strictObject({ name: z.string(), container: z.string(), target: MetricTarget }).optional(),
  pods: z.strictObject({ metric: MetricIdentifier, target: MetricTarget }).optional(),
  object: z
    .strictObject({
      describedObject: z.strictObject({ apiVersion: z.string().optional(), kind: z.string(), name: z.string() }),
      metric: MetricIdentifier,
      target: MetricTarget,
    })
    .optional(),
  external: z.strictObject({ metric: MetricIdentifier, target: MetricTarget }).optional(),
});

// Checked strictly, but typed as before (a `type` plus the fields of that type) so the modules reading specs
// keep indexing them by type name.
const metricTypes = z.enum(['Resource', 'ContainerResource', 'Pods', 'Object', 'External']);
type LooseMetricSpec = { type: z.output<typeof metricTypes>; [k: string]: unknown };
export const HpaMetricSpecSchema = StrictMetricSpec as unknown as z.ZodType<LooseMetricSpec, LooseMetricSpec>;
