// @crikit/oci: building blocks of OCI runtime specs, shared by the sandbox (pause) and container specs.
export * from './oci-spec.js';
export * from './capabilities.js';
export * from './default-spec.js';
export * from './env.js';
export * from './seccomp-default-rules.js';
export * from './seccomp-profile.js';
export * from './localhost-seccomp.js';
export * from './security-profile.js';
export * from './oom-score.js';
export * from './spec-any.js';
export * from './user-db.js';
export * from './groups-policy.js';
export * from './cgroups-path.js';
