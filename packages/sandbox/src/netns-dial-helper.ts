/**
 * The program NetnsDialers runs inside a pod's network namespace (`nsenter --net=<netns> node -e
 * <this>`). A socket belongs for life to the namespace it was made in, so a TCP connection this
 * program makes to the pod's loopback stays in the pod when its fd is handed to crikitd over the IPC
 * channel (SCM_RIGHTS, through Node's child_process handle passing). Messages in: `{ id, port }`;
 * out: `{ id }` with the connected socket, or `{ id, error }` (an errno name such as ECONNREFUSED).
 *
 * It is source text rather than a module of its own so that it runs the same from the packages and
 * from the bundled crikitd, which has no files beside it. Nothing is read from the socket before it
 * is handed over (it is paused at once): bytes the pod sends first reach crikitd's copy.
 */
export const netnsDialHelperSource = `// crikit netns-dial-helper
'use strict';
const net = require('node:net');
process.on('message', m => {
  if (!m || typeof m.id !== 'number' || !Number.isInteger(m.port) || m.port < 1 || m.port > 65535) return;
  const socket = net.connect({ host: '127.0.0.1', port: m.port });
  socket.pause();
  const onError = err => { process.send({ id: m.id, error: err.code || err.message }); socket.destroy(); };
  socket.once('error', onError);
  socket.once('connect', () => {
    socket.off('error', onError);
    socket.on('error', () => {});
    process.send({ id: m.id }, socket, err => { if (err) process.send({ id: m.id, error: err.message }); });
  });
});
process.once('disconnect', () => process.exit(0));
`;
