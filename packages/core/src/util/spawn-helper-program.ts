/** The first line of the helper's program, which is in its command line: tools tell the helper by it. */
export const spawnHelperMarker = '// crikit spawn-helper';

/**
 * The program SpawnHelper runs as its helper process (`node -e <this>`), so that forks happen there and
 * not on crikitd's event loop. It is source text rather than a module so that it runs the same from the
 * packages and from the bundled crikitd, which has no files beside it.
 *
 * Protocol, JSON messages over Node's IPC channel (a socketpair):
 *   in  `{ id, file, args, env, stdin, maxOutputBytes, ownGroup }`  run a program; `env` goes on top of the helper's
 *   in  `{ id, kill: true }`                                       SIGKILL the program of request `id` (its group)
 *   out `{ id, code, signal, stdout, stderr, outputExceeded }`     it ended (output cut at maxOutputBytes)
 *   out `{ id, error: { code, message } }`                         it could not be started
 *   out `{ ready: true }`                                          once, when the helper listens
 * Timeouts are the caller's: it sends a kill. The helper exits when the channel closes (crikitd is gone).
 */
export const spawnHelperSource = `${spawnHelperMarker}
'use strict';
const { spawn } = require('node:child_process');
const running = new Map();
function kill(job) {
  try {
    if (job.ownGroup && job.child.pid !== undefined) process.kill(-job.child.pid, 'SIGKILL');
    else job.child.kill('SIGKILL');
  } catch {
    try { job.child.kill('SIGKILL'); } catch {}
  }
}
function start(m) {
  let child;
  try {
    child = spawn(m.file, m.args || [], { env: Object.assign({}, process.env, m.env), stdio: ['pipe', 'pipe', 'pipe'], detached: !!m.ownGroup });
  } catch (err) {
    process.send({ id: m.id, error: { code: err.code || '', message: err.message } });
    return;
  }
  const job = { child, ownGroup: !!m.ownGroup, done: false };
  running.set(m.id, job);
  const out = [], err = [];
  let bytes = 0, exceeded = false;
  const collect = into => chunk => {
    if (exceeded) return;
    const room = m.maxOutputBytes - bytes;
    bytes += chunk.length;
    if (bytes <= m.maxOutputBytes) return void into.push(chunk);
    into.push(chunk.subarray(0, Math.max(0, room)));
    exceeded = true;
    kill(job);
  };
  child.stdout.on('data', collect(out));
  child.stderr.on('data', collect(err));
  child.stdin.on('error', () => {});
  child.stdin.end(m.stdin || '');
  const reply = msg => {
    if (job.done) return;
    job.done = true;
    running.delete(m.id);
    process.send(msg);
  };
  child.on('error', e => reply({ id: m.id, error: { code: e.code || '', message: e.message } }));
  const ended = (code, signal) => reply({ id: m.id, code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), outputExceeded: exceeded });
  // Once killed, do not wait for the pipes: a grandchild outside the group could hold them open.
  child.on('exit', (code, signal) => { if (exceeded || job.killed) ended(code, signal); });
  child.on('close', ended);
}
process.on('message', m => {
  if (!m || typeof m.id !== 'number') return;
  if (m.kill) {
    const job = running.get(m.id);
    if (job) { job.killed = true; kill(job); }
    return;
  }
  start(m);
});
process.once('disconnect', () => process.exit(0));
process.send({ ready: true });
`;
