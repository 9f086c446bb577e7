import type { Readable } from 'node:stream';
import type { TerminalSize } from '@crikit/core';

/**
 * The terminal sizes a client sends on its resize stream: a sequence of JSON objects
 * `{"Width":80,"Height":24}` (remotecommand.TerminalSize), possibly split or joined across chunks.
 * Anything that is not such an object is skipped.
 */
export async function* terminalSizes(stream: Readable): AsyncGenerator<TerminalSize> {
  let text = '';
  for await (const chunk of stream) {
    text += Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk);
    for (;;) {
      const start = text.indexOf('{');
      const end = text.indexOf('}', start);
      if (start < 0 || end < 0) break;
      const json = text.slice(start, end + 1);
      text = text.slice(end + 1);
      try {
        const v = JSON.parse(json) as { Width?: unknown; Height?: unknown };
        if (typeof v.Width === 'number' && typeof v.Height === 'number') yield { width: v.Width, height: v.Height };
      } catch {
        // not a size: skip it
      }
    }
    if (text.length > 4096) text = '';
  }
}
