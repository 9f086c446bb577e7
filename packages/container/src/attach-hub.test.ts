import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { FailedPreconditionError, type ContainerId } from '@crikit/core';
import { FakeContainerd } from '@crikit/core/testing';
import { AttachHub } from './attach-hub.js';

const id = 'c1' as ContainerId;
const collect = (s: PassThrough) => { let t = ''; s.on('data', (c: Buffer) => { t += c; }); return () => t; };

describe('AttachHub', () => {
  it('fans output out to the log writer and every attached client; attach ends when the output does', async () => {
    const hub = new AttachHub(new FakeContainerd());
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const tapped = hub.tap(id, { stdout, stderr });
    const log = collect(tapped.stdout as PassThrough);
    const [a, b, bErr] = [new PassThrough(), new PassThrough(), new PassThrough()];
    const seenA = collect(a);
    const seenB = collect(b);
    const seenBErr = collect(bErr);
    const detachA = new AbortController();
    const attachedA = hub.attach(id, { stdout: a, tty: false }, detachA.signal, 'attach');
    const attachedB = hub.attach(id, { stdout: b, stderr: bErr, tty: false }, new AbortController().signal, 'attach');
    stdout.write('one\n');
    stderr.write('oops\n');
    await new Promise(r => setImmediate(r));
    detachA.abort();
    await attachedA;
    stdout.write('two\n');
    stdout.end();
    stderr.end();
    await attachedB;
    assert.equal(log(), 'one\ntwo\n');
    assert.equal(seenA(), 'one\n', 'a detached client gets nothing more');
    assert.equal(seenB(), 'one\ntwo\n');
    assert.equal(seenBErr(), 'oops\n');
    await assert.rejects(hub.attach(id, { stdout: a, tty: false }, new AbortController().signal, 'attach'), FailedPreconditionError);
  });

  it('passes clients\' input to stdin; with stdin_once the first client\'s EOF closes it and CloseIO follows', async () => {
    const containerd = new FakeContainerd();
    const hub = new AttachHub(containerd);
    const stdin = new PassThrough();
    const got = collect(stdin);
    hub.tap(id, { stdout: new PassThrough() }, { writer: stdin, once: true });
    const input = new PassThrough();
    const done = new AbortController();
    const attached = hub.attach(id, { stdin: input, stdout: new PassThrough(), tty: false }, done.signal, 'attach');
    input.end('hello\n');
    await new Promise(r => stdin.once('finish', r));
    assert.equal(got(), 'hello\n');
    await new Promise(r => setImmediate(r));
    assert.deepEqual(containerd.calls.filter(c => c.method === 'tasks.closeIO').map(c => c.request), [{ containerId: 'c1', execId: '', stdin: true }]);
    done.abort();
    await attached;
  });

  it('refuses stdin for a container created without it', async () => {
    const hub = new AttachHub(new FakeContainerd());
    hub.tap(id, { stdout: new PassThrough() });
    await assert.rejects(hub.attach(id, { stdin: new PassThrough(), tty: false }, new AbortController().signal, 'attach'), FailedPreconditionError);
    assert.equal(hub.stdinOpen(id), false);
  });

  it('stdin_once: a client that detaches without EOF closes stdin too; onClosed is told once; a second stdin attach is refused', async () => {
    const containerd = new FakeContainerd();
    const hub = new AttachHub(containerd);
    let closed = 0;
    hub.tap(id, { stdout: new PassThrough() }, { writer: new PassThrough(), once: true, onClosed: () => { closed++; } });
    assert.equal(hub.stdinOpen(id), true);
    const detach = new AbortController();
    const attached = hub.attach(id, { stdin: new PassThrough(), stdout: new PassThrough(), tty: false }, detach.signal, 'attach');
    detach.abort();
    await attached;
    assert.equal(closed, 1);
    assert.equal(hub.stdinOpen(id), false);
    await assert.rejects(hub.attach(id, { stdin: new PassThrough(), tty: false }, new AbortController().signal, 'attach'), FailedPreconditionError);
    // Output only is still fine.
    const out = new AbortController();
    const watching = hub.attach(id, { stdout: new PassThrough(), tty: false }, out.signal, 'attach');
    out.abort();
    await watching;
    assert.equal(closed, 1);
  });

  it('stdin_once with a TTY keeps stdin open when the client goes, as containerd\'s CRI does', async () => {
    const hub = new AttachHub(new FakeContainerd());
    let closed = 0;
    hub.tap(id, { stdout: new PassThrough() }, { writer: new PassThrough(), once: true, onClosed: () => { closed++; } });
    const input = new PassThrough();
    const detach = new AbortController();
    const attached = hub.attach(id, { stdin: input, stdout: new PassThrough(), tty: true }, detach.signal, 'attach');
    input.end();
    detach.abort();
    await attached;
    assert.deepEqual([closed, hub.stdinOpen(id)], [0, true]);
  });
});
