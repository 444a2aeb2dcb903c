/**
 * Upload policy (BeepTrace VI-B): upload immediately, or only while charging
 * and on WiFi to spare the battery, but never hold data longer than
 * `maxDelayMs` (then upload anyway). Pure: state and time are inputs.
 */
import { BeepkitError } from '@beepkit/protocol/errors';

export type UploadPolicy = { mode: 'immediate' } | { mode: 'charging-wifi'; maxDelayMs: number };

export interface DeviceState {
  /** On external power (charging, full, or no battery at all). */
  charging: boolean;
  /** The default route goes through a wireless interface. */
  wifi: boolean;
  /** Any default route at all. */
  online: boolean;
}

export interface UploadInput {
  now: number;
  pending: number;
  /** When the oldest pending item was recorded (ms), if any. */
  oldestPendingAt?: number;
}

export type UploadReason = 'nothing-pending' | 'offline' | 'immediate' | 'charging-on-wifi' | 'max-delay' | 'waiting-for-charger' | 'waiting-for-wifi';

export interface UploadDecision {
  upload: boolean;
  reason: UploadReason;
}

export function uploadPolicy(spec: string | UploadPolicy, maxDelayMs = 6 * 3_600_000): UploadPolicy {
  if (typeof spec !== 'string') spec = spec.mode;
  if (spec === 'immediate') return { mode: 'immediate' };
  if (spec === 'charging-wifi') {
    if (!(maxDelayMs > 0)) throw new BeepkitError('E_CONFIG', 'upload policy: maxDelayMs must be > 0');
    return { mode: 'charging-wifi', maxDelayMs };
  }
  throw new BeepkitError('E_CONFIG', `upload policy: unknown mode ${spec} (immediate | charging-wifi)`);
}

export function decideUpload(policy: UploadPolicy, state: DeviceState, input: UploadInput): UploadDecision {
  if (input.pending <= 0) return { upload: false, reason: 'nothing-pending' };
  if (!state.online) return { upload: false, reason: 'offline' };
  if (policy.mode === 'immediate') return { upload: true, reason: 'immediate' };
  if (state.charging && state.wifi) return { upload: true, reason: 'charging-on-wifi' };
  if (input.oldestPendingAt !== undefined && input.now - input.oldestPendingAt >= policy.maxDelayMs) return { upload: true, reason: 'max-delay' };
  return { upload: false, reason: state.charging ? 'waiting-for-wifi' : 'waiting-for-charger' };
}
