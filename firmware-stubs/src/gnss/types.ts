/** The clock the GNSS emulator and the log replay run on: scenario time, and timers scaled to it. */
export interface GnssClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}
