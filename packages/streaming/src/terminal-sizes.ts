import type { Readable } from 'node:stream';
import type { TerminalSize } from '@crikit/core';

/**
 * The terminal sizes a client sends on its resize stream: a sequence of JSON objects
 * `{"Width":80,"Height":24}` (remotecommand.TerminalSize), possibly split or joined across chunks.
 * Keys match in any case, as Go's encoding/json matches them: @kubernetes/client-node sends
 * `{"height":24,"width":80}`. Anything that is not such an object is skipped.
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
        const v = lowerKeys(JSON.parse(json));
        if (typeof v.width === 'number' && typeof v.height === 'number') yield { width: v.width, height: v.height };
      } catch {
        // not a size: skip it
      }
    }
    if (text.length > 4096) text = '';
  }
}

/** An object's own keys lower-cased (Go's encoding/json matches field names case-insensitively). */
function lowerKeys(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return {};
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.toLowerCase(), v]));
}
