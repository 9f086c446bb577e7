import cliProgress from 'cli-progress';

/** Where `crikit pull` shows per-layer progress; `finish` marks every layer complete (the pull succeeded). */
export interface PullProgressView {
  /** Bytes of `layer` arrived: `done` of `total`. */
  update(layer: string, done: number, total: number): void;
  /** Stops drawing; with `complete`, every bar is drawn full first. */
  stop(options: { complete: boolean }): void;
}

const mib = (n: number): string => (n / 1024 / 1024).toFixed(1);
const shortDigest = (digest: string): string => digest.replace(/^sha256:/, '').slice(0, 12);

/**
 * One live bar per layer, redrawn in place (cli-progress's MultiBar), for a terminal. Bars appear in
 * the order their layers start, and are drawn on `stream` at most 10 times a second.
 */
export function barsView(stream: NodeJS.WriteStream): PullProgressView {
  const multi = new cliProgress.MultiBar({
    stream, fps: 10, hideCursor: true, clearOnComplete: false, autopadding: true, barsize: 30,
    format: '{layer} [{bar}] {percentage}% {doneMiB}/{totalMiB} MiB',
    barCompleteChar: '█', barIncompleteChar: '░',
  }, cliProgress.Presets.shades_classic);
  const bars = new Map<string, { bar: cliProgress.SingleBar; total: number }>();
  return {
    update(layer, done, total) {
      let entry = bars.get(layer);
      if (!entry) {
        entry = { bar: multi.create(Math.max(total, 1), 0, { layer: shortDigest(layer), doneMiB: mib(0), totalMiB: mib(total) }), total };
        bars.set(layer, entry);
      }
      entry.bar.update(Math.min(done, Math.max(total, 1)), { doneMiB: mib(done) });
    },
    stop({ complete }) {
      if (complete) for (const { bar, total } of bars.values()) bar.update(Math.max(total, 1), { doneMiB: mib(total) });
      multi.stop();
    },
  };
}

/**
 * Plain lines for a pipe or a file: one when a layer starts and one when it is complete, so a log
 * holds no redraws.
 */
export function linesView(write: (line: string) => void): PullProgressView {
  const layers = new Map<string, { total: number; complete: boolean }>();
  return {
    update(layer, done, total) {
      let state = layers.get(layer);
      if (!state) {
        state = { total, complete: false };
        layers.set(layer, state);
        write(`layer ${shortDigest(layer)}: downloading ${mib(total)} MiB`);
      }
      if (!state.complete && done >= total) {
        state.complete = true;
        write(`layer ${shortDigest(layer)}: downloaded ${mib(total)} MiB`);
      }
    },
    stop() {},
  };
}
