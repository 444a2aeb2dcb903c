/**
 * The clock of the broker's rate limits (connection rate, login back-off,
 * inbound bytes) and of the takeover alarm window: monotonic host time in ms.
 * Deliberately not the gateway's scenario clock: a simulated trial may run
 * its clock fast or paused, while floods and guesses happen in real time.
 */
export const monotonicMs = (): number => performance.now();
