// The program NetnsDialers starts inside a pod's network namespace (`nsenter --net=<netns> node
// netns-dial-helper.js`). A socket belongs for life to the namespace it was made in, so a TCP
// connection this process makes to the pod's loopback stays in the pod when its fd is handed to
// crikitd over the IPC channel (SCM_RIGHTS, through Node's child_process handle passing).
// Messages in: { id, port }. Messages out: { id } with the connected socket, or { id, error }.
import net from 'node:net';

/** A dial request from crikitd. */
interface DialRequest {
  readonly id: number;
  readonly port: number;
}

function dial({ id, port }: DialRequest): void {
  const socket = net.connect({ host: '127.0.0.1', port });
  // Nothing may be read here: bytes the pod sends first must reach crikitd's copy of the socket.
  socket.pause();
  socket.once('error', err => {
    process.send?.({ id, error: (err as NodeJS.ErrnoException).code ?? err.message });
    socket.destroy();
  });
  socket.once('connect', () => {
    // After the handover the socket is crikitd's; this copy is closed by Node once it is sent.
    socket.removeAllListeners('error');
    socket.on('error', () => undefined);
    process.send?.({ id }, socket, err => {
      if (err) process.send?.({ id, error: err.message });
    });
  });
}

process.on('message', (m: DialRequest) => {
  if (typeof m?.id === 'number' && Number.isInteger(m.port) && m.port > 0 && m.port < 65536) dial(m);
});
// crikitd went away (or let this helper go): nothing more to dial.
process.once('disconnect', () => process.exit(0));
