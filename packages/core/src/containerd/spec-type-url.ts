/** containerd: the type URL under which a container's `spec` (an OCI runtime spec in JSON) is stored. */
export const OCI_SPEC_TYPE_URL = 'types.containerd.io/opencontainers/runtime-spec/1/Spec';
