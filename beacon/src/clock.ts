/**
 * Whether the system clock can be trusted to stamp venue frames. A beacon with
 * a wrong clock advertises frames every verifier rejects (or, worse, frames of
 * a future slot that can be recorded and replayed later), so it refuses to
 * advertise unless one of these holds, and says which:
 *   - systemd-timesyncd/NTP says synchronised (`timedatectl show -p NTPSynchronized --value`
 *     = yes, or /run/systemd/timesync/synchronized exists),
 *   - a battery-backed RTC (/sys/class/rtc/rtc0/since_epoch) agrees with the clock within 120 s,
 *   - the operator passed --trust-clock.
 * A clock before the build date is never trusted, whatever else says so.
 */
import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';

export interface ClockProbes {
  ntpSynchronized(): Promise<boolean | undefined>;
  timesyncFlag(): Promise<boolean>;
  /** RTC seconds since the epoch, when an RTC exists. */
  rtcSeconds(): Promise<number | undefined>;
}

export interface ClockVerdict {
  trusted: boolean;
  source?: 'ntp' | 'timesync' | 'rtc' | 'override';
  reason: string;
}

/** 2026-01-01T00:00:00Z: no beacon built from this tree runs earlier. */
export const BUILD_DATE_S = 1_767_225_600;
export const RTC_TOLERANCE_S = 120;

export const systemProbes: ClockProbes = {
  ntpSynchronized: () =>
    new Promise((resolve) => {
      execFile('timedatectl', ['show', '-p', 'NTPSynchronized', '--value'], { timeout: 3000 }, (err, out) => resolve(err ? undefined : out.trim() === 'yes'));
    }),
  timesyncFlag: () =>
    stat('/run/systemd/timesync/synchronized').then(
      () => true,
      () => false,
    ),
  rtcSeconds: () =>
    readFile('/sys/class/rtc/rtc0/since_epoch', 'utf8').then(
      (s) => Number(s.trim()),
      () => undefined,
    ),
};

export async function checkClock(o: { nowS: number; trustClock?: boolean; buildDateS?: number; probes?: ClockProbes }): Promise<ClockVerdict> {
  const build = o.buildDateS ?? BUILD_DATE_S;
  if (!(o.nowS >= build))
    return {
      trusted: false,
      reason: `the system clock (${new Date(o.nowS * 1000).toISOString()}) is before the build date (${new Date(build * 1000).toISOString()}): never trusted`,
    };
  if (o.trustClock) return { trusted: true, source: 'override', reason: 'trusted by --trust-clock' };
  const p = o.probes ?? systemProbes;
  if ((await p.ntpSynchronized()) === true) return { trusted: true, source: 'ntp', reason: 'timedatectl: NTPSynchronized=yes' };
  if (await p.timesyncFlag()) return { trusted: true, source: 'timesync', reason: '/run/systemd/timesync/synchronized exists' };
  const rtc = await p.rtcSeconds();
  if (rtc !== undefined && Number.isFinite(rtc) && Math.abs(rtc - o.nowS) <= RTC_TOLERANCE_S)
    return { trusted: true, source: 'rtc', reason: `the RTC agrees within ${RTC_TOLERANCE_S} s` };
  const rtcNote = rtc === undefined ? 'no RTC' : `the RTC differs by ${Math.round(rtc - o.nowS)} s`;
  return { trusted: false, reason: `the clock is not synchronised (NTP not synchronised, no timesync flag, ${rtcNote}); wait for NTP or pass --trust-clock` };
}
