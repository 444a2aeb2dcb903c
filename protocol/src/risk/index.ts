/** The risk model shared by the devices (alerts) and the gateway (venue surfaces, `beepkit risk fit`): Song et al.'s logistic model and its surface materials. */
export * from './logistic.ts';
