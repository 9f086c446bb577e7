declare const brand: unique symbol;
/** A string that the type system keeps apart from other strings. */
export type Brand<T, B extends string> = T & { readonly [brand]: B };

/** The 64-hex id of a pod sandbox (also its containerd container id). */
export type SandboxId = Brand<string, 'SandboxId'>;
/** The 64-hex id of a container (also its containerd container id). */
export type ContainerId = Brand<string, 'ContainerId'>;
/** The CRI image id: the digest of the image config (`sha256:…`). */
export type ImageId = Brand<string, 'ImageId'>;
