/** Carer side of elder-wearable pairing (issue 8). */
export {};
