/** The host's own word on its clock: systemd's NTPSynchronized (timedatectl), or the timesync flag file. */
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import type { TimeProbes } from './keeper.ts';

export const systemTimeProbes: TimeProbes = {
  ntpSynchronized: () =>
    new Promise((resolve) => {
      execFile('timedatectl', ['show', '-p', 'NTPSynchronized', '--value'], { timeout: 3000 }, (err, out) => {
        if (!err) return resolve(out.trim() === 'yes');
        // no systemd (containers, some Pis): the timesync flag, else the host cannot say
        stat('/run/systemd/timesync/synchronized').then(
          () => resolve(true),
          () => resolve(undefined),
        );
      });
    }),
};
