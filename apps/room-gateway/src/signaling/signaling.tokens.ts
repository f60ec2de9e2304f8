/** Injection tokens of the signaling module. */
export const SIGNALING_CONFIG = Symbol('SIGNALING_CONFIG');
