// The Kubernetes release whose HPA controller a sync imitates. The replica arithmetic is the same everywhere; a few
// edge cases changed between minors, and each one is decided here by the version's minor number.

/** The latest released minor (v1.37, August 2026): what a request without `kubernetesVersion` gets. */
export const DEFAULT_KUBERNETES_MINOR = 37;
/** autoscaling/v2 became GA in v1.23; older controllers are not modelled. */
export const OLDEST_KUBERNETES_MINOR = 23;
/** The development branch (master) after the latest release. */
export const MASTER_KUBERNETES_MINOR = 38;

/** "1.37", "v1.37", "1.37.2" or "v1.38.0-alpha.1" → 37; null when the text is not such a version. */
export function kubernetesMinor(text: string): number | null {
  const m = /^v?1\.(\d{1,3})(\.\d+)?(-[0-9A-Za-z.-]+)?$/.exec(text);
  return m === null ? null : Number(m[1]);
}

/** Why a version is rejected, or null when it is supported. */
export function unsupportedKubernetesVersion(text: unknown): string | null {
  const supported = `a Kubernetes version from "1.${OLDEST_KUBERNETES_MINOR}" to "1.${MASTER_KUBERNETES_MINOR}" (unreleased master), written as a string such as "1.${DEFAULT_KUBERNETES_MINOR}"`;
  if (typeof text !== 'string') return `must be ${supported}`;
  const minor = kubernetesMinor(text);
  if (minor === null || minor < OLDEST_KUBERNETES_MINOR || minor > MASTER_KUBERNETES_MINOR) return `must be ${supported}, not ${JSON.stringify(text)}`;
  return null;
}

/** behavior.scaleUp/scaleDown.tolerance exist (KEP-4951, v1.33+); older API servers drop them. */
export const honoursPerDirectionTolerance = (minor: number): boolean => minor >= 33;

/**
 * A ContainerResource metric whose pod metrics lack the container: v1.32+ treats that pod as having no sample
 * (missing, like a Resource metric); older controllers fail the metric ("container X not present in metrics").
 */
export const containerMissingIsPodMissing = (minor: number): boolean => minor >= 32;

/**
 * At zero replicas, v1.36+ computes metrics only when the HPA itself scaled the target to zero (its ScaledToZero
 * condition is True); older controllers compute them whenever minReplicas is 0.
 */
export const scaleFromZeroNeedsCondition = (minor: number): boolean => minor >= 36;

/**
 * Whether the HPAScaleToZero gate is on: by default from v1.37 (beta); in v1.36 (alpha) an HPA with minReplicas 0
 * can only exist with the gate on, so that is taken as the sign.
 */
export const scaleToZeroGate = (minor: number, minReplicas: number): boolean => minor >= 37 || (minor === 36 && minReplicas === 0);

/** Succeeded pods are ignored like Failed ones on master; released controllers count them (as missing). */
export const ignoresSucceededPods = (minor: number): boolean => minor >= MASTER_KUBERNETES_MINOR;
