/**
 * Keeps the radio doing its job for the whole run: starts it (retrying while
 * the controller is absent), scans with the configured duty cycle, advertises
 * the day's EN identifiers with the BLE address rotated in lockstep at every
 * 10-minute interval boundary (the day's last interval hands over to the next
 * day's TEK at UTC midnight with no gap), and restarts a scan that went quiet
 * (controller reset under us). Logs states and counts only, never identifiers.
 */
import { intervalIds, encodeMetadata, enIntervalNumber, formatBleAddress } from '@beepkit/protocol/rpi';
import { isBeepkitError } from '@beepkit/protocol';
import { silentLogger, type Logger } from '@beepkit/protocol/log';
import { advertiseEn, type Radio, type RadioPower, type ScanOptions } from './index.ts';

export const EN_INTERVAL_MS = 600_000;

export interface RadioRunnerOptions {
  radio: Radio;
  scan: boolean;
  advertise: boolean;
  dutyCycle: ScanOptions['dutyCycle'];
  /** TX power announced in the EN metadata when the controller cannot report its own, dBm. */
  txPower: number;
  /**
   * Correction added to the controller's advertising TX power (LE Read Advertising Physical Channel Tx
   * Power) before it goes into the AEM, dB: the hook for a per-model calibration (default 0).
   */
  txPowerCorrection?: () => number;
  /** The TX power the AEM announces whatever the controller says: a configured model's calibrated value (#15). */
  modelTxPower?: number;
  /** EN advertising interval, ms (default 200–270; the EN specification's range). */
  advIntervalMs?: { min: number; max: number };
  /** Today's TEK (undefined when the day is renounced: advertising stops). */
  tek: (day: number) => Uint8Array | undefined;
  now: () => number;
  watchdogMs: number;
  retryMs?: number;
  logger?: Logger;
  onError?: (code: string) => void;
}

export class RadioRunner {
  scanner: RadioPower | 'none';
  advertiser: RadioPower | 'none';
  scanning = false;
  advertising = false;
  lastError?: string;
  /** The TX power last put in the AEM, and where it came from. */
  txPower: { controller: number | null; correction: number; advertised: number | null; source: 'model' | 'controller' | 'config' | null } = {
    controller: null,
    correction: 0,
    advertised: null,
    source: null,
  };
  readonly counters = { starts: 0, startFailures: 0, rotations: 0, watchdogRestarts: 0, resets: 0, adverts: 0 };
  private readonly log: Logger;
  private stopped = true;
  private started = false;
  private lastAdvertAt = 0;
  private timers = new Set<NodeJS.Timeout>();
  private rotateTimer?: NodeJS.Timeout;
  private watchTimer?: NodeJS.Timeout;
  private busy: Promise<void> = Promise.resolve();

  constructor(private readonly o: RadioRunnerOptions) {
    this.log = o.logger ?? silentLogger;
    this.scanner = o.scan ? 'unknown' : 'none';
    this.advertiser = o.advertise ? 'unknown' : 'none';
    o.radio.on('advert', () => {
      this.counters.adverts++;
      this.lastAdvertAt = o.now();
    });
    o.radio.on('state', (s) => {
      if (s.role === 'scanner' && this.scanner !== 'none') this.scanner = s.state;
      if (s.role === 'advertiser' && this.advertiser !== 'none') this.advertiser = s.state;
      if (s.resetDetected) {
        this.counters.resets++;
        this.log.warn({ role: s.role, state: s.state }, 'radio: controller reset detected');
      }
      // bleno does not restore advertising after a reset: do it once the controller is back
      if (s.role === 'advertiser' && s.state === 'poweredOn' && this.started && this.o.advertise) this.serial(() => this.rotate('controller back on'));
    });
  }

  start(): void {
    this.stopped = false;
    void this.tryStart();
  }

  private later(fn: () => void, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.stopped) fn();
    }, ms);
    this.timers.add(t);
  }

  private fail(code: string, what: string, err: unknown): void {
    this.lastError = code;
    this.o.onError?.(code);
    this.log.warn({ code, err: (err as Error)?.message }, what);
  }

  private async tryStart(): Promise<void> {
    try {
      await this.o.radio.start();
    } catch (err) {
      this.counters.startFailures++;
      this.fail(isBeepkitError(err) ? err.code : 'E_IO', 'radio: start failed, retrying', err);
      await this.o.radio.stop().catch(() => {});
      this.later(() => void this.tryStart(), this.o.retryMs ?? 5_000);
      return;
    }
    if (this.stopped) return;
    this.started = true;
    this.counters.starts++;
    this.lastAdvertAt = this.o.now();
    if (this.o.scan) await this.startScan();
    if (this.o.advertise) {
      await this.serial(() => this.rotate('start'));
      this.scheduleRotation();
    }
    if (this.o.scan && this.o.watchdogMs > 0) this.watchTimer = setInterval(() => this.watch(), Math.max(50, Math.floor(this.o.watchdogMs / 2)));
    this.log.info({ scan: this.o.scan, advertise: this.o.advertise }, 'radio: running');
  }

  private async startScan(): Promise<void> {
    try {
      await this.o.radio.startScan({ allowDuplicates: true, dutyCycle: this.o.dutyCycle });
      this.scanning = true;
    } catch (err) {
      this.fail(isBeepkitError(err) ? err.code : 'E_IO', 'radio: scan start failed', err);
    }
  }

  /** A scan that produced nothing for watchdogMs (continuous scan) is restarted: a reset controller forgets it silently. */
  private watch(): void {
    if (this.stopped || !this.scanning || this.o.dutyCycle !== 'continuous') return;
    if (this.o.now() - this.lastAdvertAt < this.o.watchdogMs) return;
    this.counters.watchdogRestarts++;
    this.lastAdvertAt = this.o.now();
    this.log.warn({ quietMs: this.o.watchdogMs }, 'radio: scan quiet, restarting it');
    void this.serial(async () => {
      await this.o.radio.stopScan().catch(() => {});
      await this.startScan();
      if (this.o.advertise) await this.rotate('watchdog');
    });
  }

  private serial(fn: () => Promise<void>): Promise<void> {
    const run = this.busy.then(fn, fn);
    this.busy = run.catch(() => {});
    return run;
  }

  private scheduleRotation(): void {
    const now = this.o.now();
    const delay = EN_INTERVAL_MS - (now % EN_INTERVAL_MS) + 5;
    this.rotateTimer = setTimeout(() => {
      if (this.stopped) return;
      void this.serial(() => this.rotate('interval'));
      this.scheduleRotation();
    }, delay);
  }

  /** Advertises the current interval's RPI | AEM from the address derived in lockstep. */
  private async rotate(why: string): Promise<void> {
    if (this.stopped) return;
    const now = this.o.now();
    const day = Math.floor(now / 86_400_000);
    const tek = this.o.tek(day);
    if (!tek) {
      await this.o.radio.stopAdvertising().catch(() => {});
      this.advertising = false;
      return;
    }
    const [ids] = intervalIds(tek, enIntervalNumber(Math.floor(now / 1000)), 1, encodeMetadata(this.calibratedTxPower()));
    try {
      await advertiseEn(this.o.radio, ids.rpi, ids.aem, formatBleAddress(ids.address).toLowerCase(), this.o.advIntervalMs);
      this.advertising = true;
      this.counters.rotations++;
      this.log.debug({ why }, 'radio: EN identifiers rotated');
    } catch (err) {
      this.advertising = false;
      this.fail(isBeepkitError(err) ? err.code : 'E_IO', 'radio: advertising failed', err);
    }
  }

  /**
   * The AEM's TX power: a configured model's calibrated value; else the controller's advertising TX power plus
   * the correction, clamped to int8; else the configured value.
   */
  calibratedTxPower(): number {
    const controller = this.o.radio.advTxPower;
    if (this.o.modelTxPower !== undefined) {
      const known = typeof controller === 'number' && Number.isFinite(controller) ? controller : null;
      this.txPower = { controller: known, correction: 0, advertised: this.o.modelTxPower, source: 'model' };
      return this.o.modelTxPower;
    }
    const correction = this.o.txPowerCorrection?.() ?? 0;
    const fromController = typeof controller === 'number' && Number.isFinite(controller);
    const value = fromController ? Math.max(-127, Math.min(20, Math.round(controller + correction))) : this.o.txPower;
    this.txPower = { controller: fromController ? controller : null, correction, advertised: value, source: fromController ? 'controller' : 'config' };
    return value;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (this.rotateTimer) clearTimeout(this.rotateTimer);
    if (this.watchTimer) clearInterval(this.watchTimer);
    await this.busy;
    this.scanning = false;
    this.advertising = false;
    await this.o.radio.stop().catch((err) => this.fail('E_IO', 'radio: stop failed', err));
  }
}
