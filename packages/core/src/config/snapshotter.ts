/**
 * The containerd snapshotter images are unpacked with and container root filesystems are prepared
 * on (a string; the server binds it from `image.snapshotter`). Shared by image, sandbox and container.
 */
export const Snapshotter = Symbol('Snapshotter');
