// removeTaskLeftovers and destroyTask on real processes and cgroups: a shim that outlives its grace is
// killed and its bundle dir removed, a process left in the container's cgroup is killed and the cgroup
// removed, a frozen cgroup is thawed, and nothing of another id is touched.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { taskTypes } from '@crikit/api';
import { InternalError, NotFoundError } from '../errors.js';
import { FakeContainerd } from '../testing/fake-containerd.js';
import { randomId } from '../testing/record-builders.js';
import { FakeShims } from '../testing/fake-shims.js';
import { destroyTask } from './task-control.js';
import { removeTaskLeftovers } from './task-leftovers.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'crikit-task-leftovers-'));
const shims = new FakeShims(root);
const children: ChildProcess[] = [];
after(() => {
  shims.killAll();
  for (const c of children) c.kill('SIGKILL');
  fs.rmSync(root, { recursive: true, force: true });
});

/** A process whose command line reads like a runc v2 shim of `id`, running in `cwd`. */
const fakeShim = (id: string, cwd: string): ChildProcess => shims.start(id, { cwd });
const whenRunning = (child: ChildProcess): Promise<void> => shims.whenRunning(child);

const exited = (c: ChildProcess): Promise<unknown> => c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise(r => c.once('exit', r));

test('a shim containerd lost is killed after its grace and its bundle dir removed; another id\'s shim stays', async () => {
  const id = randomId();
  const other = randomId();
  const bundle = path.join(root, 'state', 'io.containerd.runtime.v2.task', 'k8s.io', id);
  fs.mkdirSync(bundle, { recursive: true });
  fs.writeFileSync(path.join(bundle, 'address'), 'unix:///nowhere');
  const shim = fakeShim(id, bundle);
  const bystander = fakeShim(other, root);
  await Promise.all([shim, bystander].map(whenRunning));
  const left = await removeTaskLeftovers(id, undefined, 200);
  await exited(shim);
  assert.deepEqual(left.shims, [shim.pid]);
  assert.deepEqual(left.bundles, [bundle]);
  assert.equal(fs.existsSync(bundle), false);
  assert.equal(bystander.exitCode, null, 'a shim of another id is left alone');
  assert.deepEqual(await removeTaskLeftovers(id, undefined, 0), { shims: [], processes: [], cgroups: [], bundles: [] }, 'idempotent');
});

test('a process left in the container\'s cgroup is killed and the cgroup removed', async () => {
  const hierarchy = fs.existsSync('/sys/fs/cgroup/cgroup.controllers') ? '/sys/fs/cgroup' : '/sys/fs/cgroup/pids';
  assert.ok(fs.existsSync(hierarchy), `needs a writable cgroup hierarchy at ${hierarchy}`);
  const id = randomId();
  const parent = `crikit-unit-leftovers-${process.pid}`;
  const dir = path.join(hierarchy, parent, id);
  fs.mkdirSync(dir, { recursive: true });
  after(() => { try { fs.rmdirSync(path.join(hierarchy, parent)); } catch { /* busy or gone */ } });
  const init = spawn('sleep', ['600'], { stdio: 'ignore' });
  children.push(init);
  await new Promise(r => init.once('spawn', r));
  fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(init.pid));
  const left = await removeTaskLeftovers(id, `/${parent}/${id}`, 0);
  await exited(init);
  assert.deepEqual(left.processes, [init.pid]);
  assert.ok(left.cgroups.includes(dir), `removed ${dir}: ${left.cgroups.join(', ')}`);
  assert.equal(fs.existsSync(dir), false);
});

test('destroyTask thaws a cgroup a cut-short `runc kill --all` left frozen, kills what it holds and deletes the task', async () => {
  const freezer = fs.existsSync('/sys/fs/cgroup/cgroup.controllers') ? '/sys/fs/cgroup' : '/sys/fs/cgroup/freezer';
  const id = randomId();
  const parent = `crikit-unit-frozen-${process.pid}`;
  const dir = path.join(freezer, parent, id);
  fs.mkdirSync(dir, { recursive: true });
  after(() => { try { fs.rmdirSync(dir); fs.rmdirSync(path.join(freezer, parent)); } catch { /* busy or gone */ } });
  const proc = spawn('sleep', ['600'], { stdio: 'ignore' });
  children.push(proc);
  await new Promise(r => proc.once('spawn', r));
  fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(proc.pid));
  const v2 = freezer === '/sys/fs/cgroup';
  fs.writeFileSync(path.join(dir, v2 ? 'cgroup.freeze' : 'freezer.state'), v2 ? '1' : 'FROZEN');
  const frozen = () => v2 ? fs.readFileSync(path.join(dir, 'cgroup.freeze'), 'utf8').trim() === '1' : fs.readFileSync(path.join(dir, 'freezer.state'), 'utf8').trim() !== 'THAWED';
  // As runc under containerd: the init is gone (STOPPED), and a delete is refused while the cgroup is frozen.
  const containerd = new FakeContainerd();
  let task = true;
  containerd.handle('tasks.get', () => {
    if (!task) throw new NotFoundError(`task ${id}`);
    return { process: { containerId: id, pid: 0, status: taskTypes.Status.STOPPED } };
  });
  containerd.handle('tasks.delete', () => {
    if (frozen()) throw new InternalError(`failed to delete task: cannot delete container ${id} that is not stopped: paused`);
    task = false;
    return {};
  });
  await assert.rejects(destroyTask(containerd, id, AbortSignal.timeout(10_000)), /paused/, 'without the cgroup nothing can be done');
  await destroyTask(containerd, id, AbortSignal.timeout(10_000), `/${parent}/${id}`);
  await exited(proc);
  assert.equal(proc.signalCode, 'SIGKILL');
  assert.equal(task, false, 'the task is deleted');
});
