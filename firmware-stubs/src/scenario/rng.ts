/** Scenario randomness is the protocol's seeded PRNG: every random thing in a scenario derives from its seed. */
export { mulberry32, childSeed, gaussian, type Rng } from '@beepkit/protocol/rng';
