import type { Duplex } from 'node:stream';
import type { PortForwarder } from '../contracts/port-forwarder.js';
import { throwIfAborted } from '../errors.js';
import type { SandboxId } from '../ids.js';
import { FakeRecorder, type MethodsOf } from './fake-recorder.js';

/** A PortForwarder with an echo server on every port: bytes written to the stream come back. */
export class FakePortForwarder extends FakeRecorder<MethodsOf<PortForwarder>> implements PortForwarder {
  async portForward(id: SandboxId, port: number, stream: Duplex, signal: AbortSignal): Promise<void> {
    this.record('portForward', id, port, stream);
    throwIfAborted(signal, `port forward to "${id}" port ${port}`);
    await new Promise<void>(resolve => {
      stream.on('data', chunk => stream.write(chunk));
      stream.once('end', () => { stream.end(); resolve(); });
      stream.once('close', resolve);
      signal.addEventListener('abort', () => { stream.destroy(); resolve(); }, { once: true });
    });
  }
}
