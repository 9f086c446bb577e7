export type { CriConfig } from './cri-config.js';
/** The whole validated config (for verbose Status); packages inject their own slice instead. */
export const CriConfigToken = Symbol('CriConfig');
