// A probe to preload into crikitd while profiling a benchmark: the event loop's delay, how long each process
// spawn held the main thread (the fork and exec of the synchronous part of ChildProcess.spawn), and the memory
// breakdown (process.memoryUsage and V8's heap spaces) at the highest RSS seen in a 1 s sampling, written as
// JSON to the file CRIKIT_LOOP_PROBE names when crikitd exits. Nothing here changes what crikitd does.
//
//   CRIKIT_LOOP_PROBE=/tmp/probe.json node test/dist/bench/pods.js --crikit-node-arg=--import=$PWD/test/dist/bench/loop-probe.js
import { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import v8 from 'node:v8';

const file = process.env.CRIKIT_LOOP_PROBE;
if (file) {
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  const spawns: { file: string; ms: number }[] = [];
  // Not in Node's typings, but every spawn (spawn, execFile, exec) goes through it.
  const proto = ChildProcess.prototype as unknown as { spawn: (options: { file: string }) => unknown };
  const spawn = proto.spawn;
  proto.spawn = function probedSpawn(this: ChildProcess, options: { file: string }) {
    const started = performance.now();
    try {
      return spawn.call(this, options);
    } finally {
      spawns.push({ file: String(options.file), ms: performance.now() - started });
    }
  };
  const mib = (bytes: number): number => Math.round(bytes / 2 ** 17) / 8;
  const memory = (): Record<string, number> => ({
    ...Object.fromEntries(Object.entries(process.memoryUsage()).map(([k, v]) => [k, mib(v)])),
    ...Object.fromEntries(v8.getHeapSpaceStatistics().map(s => [`space ${s.space_name}`, mib(s.space_size)])),
  });
  let peak = memory();
  setInterval(() => { const now = memory(); if (now.rss! > peak.rss!) peak = now; }, 1_000).unref();
  process.once('exit', () => {
    delay.disable();
    const ms = (ns: number): number => Math.round(ns / 1e4) / 100;
    const byFile: Record<string, number[]> = {};
    for (const s of spawns) (byFile[s.file] ??= []).push(s.ms);
    const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.ceil((p / 100) * xs.length) - 1] ?? 0;
    writeFileSync(file, `${JSON.stringify({
      memoryAtPeakMiB: peak,
      loopDelayMs: { p50: ms(delay.percentile(50)), p90: ms(delay.percentile(90)), p99: ms(delay.percentile(99)), max: ms(delay.max) },
      spawns: Object.fromEntries(Object.entries(byFile).map(([f, xs]) => [f, {
        count: xs.length, p50: +pct(xs, 50).toFixed(2), p90: +pct(xs, 90).toFixed(2), totalMs: +xs.reduce((a, b) => a + b, 0).toFixed(1),
      }])),
    }, null, 2)}\n`);
  });
}
