/** Injection tokens of the signaling module. */
export const SIGNALING_CONFIG = Symbol('SIGNALING_CONFIG');
export const SIGNALING_AUDIT = Symbol('SIGNALING_AUDIT');
