// The CRI socket is created with its mode and owner already in place (issue 11, defect 9): it is
// bound under a private name and renamed, so no moment exists where it has looser permissions.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { cri } from '@crikit/api';
import { errorKind, silentLogger } from '@crikit/core';
import { CriGrpcServer } from './cri-grpc-server.js';
import { LoggingRpcWrapper, ReadinessGate } from './grpc/rpc-wrapper.js';
import { serverConfigSchema } from './server-config.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ck-sock-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function server(config: Record<string, unknown>): CriGrpcServer {
  const gate = new ReadinessGate();
  gate.open();
  return new CriGrpcServer(serverConfigSchema.parse(config), silentLogger, new LoggingRpcWrapper(silentLogger, gate), []);
}

for (const acceptAnyAuthority of [true, false]) {
  test(`the socket appears with its mode, owner and group set, even with umask 0 (acceptAnyAuthority ${acceptAnyAuthority})`, async () => {
    const sub = fs.mkdtempSync(path.join(dir, 'd'));
    const socket = path.join(sub, 'crikit.sock');
    const events: string[] = [];
    // inotify: a chmod or chown of the socket at its final name shows as a 'change' event.
    const watcher = fs.watch(sub, (type, name) => { if (name === 'crikit.sock') events.push(type); });
    const old = process.umask(0);
    const s = server({ socket, socketMode: 0o600, socketOwner: 'nobody', socketGroup: 65534, acceptAnyAuthority });
    try {
      await s.listen();
    } finally {
      process.umask(old);
    }
    await new Promise(r => setTimeout(r, 200));
    watcher.close();
    const st = fs.lstatSync(socket);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal(st.uid, 65534);
    assert.equal(st.gid, 65534);
    assert.deepEqual(events, ['rename'], `events on the socket's name: ${events.join(', ')}`);
    assert.deepEqual(fs.readdirSync(sub), ['crikit.sock']);
    // It serves: a call gets a gRPC answer (no handler groups here, so UNIMPLEMENTED).
    const client = new cri.RuntimeServiceClient(`unix:${socket}`, grpc.credentials.createInsecure());
    const err = await new Promise<grpc.ServiceError | null>(resolve => client.version(cri.VersionRequest.fromPartial({}), e => resolve(e)));
    assert.equal(err?.code, grpc.status.UNIMPLEMENTED);
    client.close();
    await s.shutdown(AbortSignal.timeout(5_000));
    assert.equal(fs.existsSync(socket), false);
  });
}

test('an unknown owner or group fails listen with INVALID_ARGUMENT naming the key, leaving nothing', async () => {
  const sub = fs.mkdtempSync(path.join(dir, 'd'));
  const socket = path.join(sub, 'crikit.sock');
  await assert.rejects(server({ socket, socketGroup: 'no-such-group-here' }).listen(),
    (err: Error) => errorKind(err) === 'invalid-argument' && /server\.socketGroup: no group "no-such-group-here"/.test(err.message));
  await assert.rejects(server({ socket, socketOwner: 'no-such-user-here' }).listen(), /server\.socketOwner/);
  assert.deepEqual(fs.readdirSync(sub), []);
});

test('the config refuses an owner with a colon and a negative id', () => {
  assert.equal(serverConfigSchema.safeParse({ socketOwner: 'a:b' }).success, false);
  assert.equal(serverConfigSchema.safeParse({ socketGroup: -1 }).success, false);
  assert.equal(serverConfigSchema.parse({ socketGroup: 'kubelet' }).socketGroup, 'kubelet');
});
