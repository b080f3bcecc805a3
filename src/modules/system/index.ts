/** System: the probes and the API root. Owns no data. */
export { systemHandlers, type SystemDeps } from './system.handlers';
