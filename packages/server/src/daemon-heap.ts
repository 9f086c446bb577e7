import v8 from 'node:v8';

/** The V8 flags an operator may set that say how large the heap may grow between collections. */
const heapSizingFlags = /--(max-|min-)?semi-space-size|--semi-space-growth-factor|--heap-growing-percent/;

/**
 * Sets crikitd's V8 heap sizing for a small resident set, unless the operator set a heap sizing flag
 * (`node --max-semi-space-size=…`, `--heap-growing-percent=…`, or NODE_OPTIONS), and returns whether it did:
 *  - the young generation stays at its initial 1 MiB per semi-space instead of growing to 16 MiB: crikitd's
 *    objects are mostly small and short-lived (gRPC messages), so this only means more, shorter scavenges;
 *  - the old generation may grow 1.5× its live size before the next full collection, where V8 picks up to 4×
 *    for a small heap: crikitd's live heap is about 23 MiB, so bursts of calls left 95 MiB of heap in use.
 * Measured on crikitd after 12,000 status and list calls: 170 MiB resident with V8's defaults, 111 MiB with both.
 * Both flags are read each time V8 sizes the heap, so they take effect when set after start-up (the size
 * flags do not).
 */
export function tuneDaemonHeap(): boolean {
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  if (given.some(a => heapSizingFlags.test(a))) return false;
  v8.setFlagsFromString('--semi-space-growth-factor=1');
  v8.setFlagsFromString('--heap-growing-percent=50');
  return true;
}
