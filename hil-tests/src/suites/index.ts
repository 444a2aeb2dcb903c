/** The HIL suites, in run order. */
import type { Suite } from '../hil/runner.ts';
import { sensing } from './sensing.ts';
import { trust } from './trust.ts';
import { uplink } from './uplink.ts';
import { notification } from './notification.ts';
import { carer } from './carer.ts';
import { soak } from './soak.ts';
import { conformance } from './conformance.ts';

export const SUITES: Suite[] = [sensing, trust, uplink, notification, carer, soak];
export { sensing, trust, uplink, notification, carer, soak, conformance };
/** Runs after the chosen suites on every virtual rig (not selectable: it judges the whole run). */
export const AFTER_ALL: Suite[] = [conformance];
