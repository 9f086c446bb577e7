import assert from 'node:assert/strict';
import { test } from 'node:test';
import hpack, { type HpackHeader } from 'hpack.js';
import { encodeLiterals, HeaderBlockRewriter, withValidAuthority } from './header-block.js';

const h = (name: string, value: string, neverIndex = false): HpackHeader => ({ name, value, neverIndex });
const request = (authority?: string): HpackHeader[] => [
  h(':method', 'POST'), h(':scheme', 'http'), h(':path', '/runtime.v1.RuntimeService/Version'),
  ...(authority === undefined ? [] : [h(':authority', authority)]),
  h('content-type', 'application/grpc'), h('te', 'trailers'), h('authorization', 'secret', true),
];
/** A client's encoder: it indexes what it sends, so later blocks refer to its dynamic table. */
function clientEncoder(): (headers: HpackHeader[]) => Buffer {
  const enc = hpack.compressor.create({ table: { maxSize: 4096 } });
  return headers => { enc.write(headers); return enc.read() ?? Buffer.alloc(0); };
}
/** Decodes with a decoder that has never seen a block: works only for blocks that use no dynamic table. */
function decodeFresh(block: Buffer): HpackHeader[] {
  const dec = hpack.decompressor.create({ table: { maxSize: 4096 } });
  dec.write(block);
  dec.execute();
  const out: HpackHeader[] = [];
  for (let x = dec.read(); x; x = dec.read()) out.push(x);
  return out;
}

test('an acceptable authority leaves the header list as it is', () => {
  for (const list of [request('localhost'), request('10.0.0.1:443'), request('[::1]:10010'), [h(':method', 'GET'), h('host', 'example.com')]]) {
    assert.equal(withValidAuthority(list), list);
  }
});

test('a socket path, an empty or a missing authority becomes localhost, after the other pseudo-headers', () => {
  for (const bad of ['/run/crikit/crikit.sock', '', 'a b', undefined]) {
    const fixed = withValidAuthority(request(bad));
    assert.deepEqual(fixed.map(x => x.name), [':method', ':scheme', ':path', ':authority', 'content-type', 'te', 'authorization']);
    assert.equal(fixed.find(x => x.name === ':authority')!.value, 'localhost');
  }
  const badHost = withValidAuthority([h(':method', 'GET'), h('host', '/x.sock')]);
  assert.deepEqual(badHost.map(x => [x.name, x.value]), [[':method', 'GET'], [':authority', 'localhost'], ['host', 'localhost']]);
});

test('literals round-trip through a decoder that has no dynamic state, long strings included', () => {
  const list = [...request('localhost'), h('x-long', 'v'.repeat(70_000)), h('x-custom-name', 'é€'.normalize())];
  const latin1 = list.map(x => ({ ...x, value: Buffer.from(x.value, 'latin1').toString('latin1') }));
  assert.deepEqual(decodeFresh(encodeLiterals(latin1)), latin1);
});

test('blocks pass unchanged until one needs a change; from then on every block is re-encoded', () => {
  const encode = clientEncoder();
  const rewriter = new HeaderBlockRewriter();
  assert.equal(rewriter.rewrite(encode(request('localhost'))), undefined);
  assert.equal(rewriter.isRewriting, false);

  const fixed = rewriter.rewrite(encode(request('/run/x.sock')));
  assert.ok(fixed);
  assert.deepEqual(decodeFresh(fixed), request('localhost'));
  assert.equal(rewriter.isRewriting, true);

  // The client now refers to its dynamic table; the rewriter resolves it and sends literals.
  for (const authority of ['/run/x.sock', 'localhost', '/run/x.sock']) {
    const again = rewriter.rewrite(encode(request(authority)));
    assert.ok(again);
    assert.deepEqual(decodeFresh(again), request('localhost'));
  }
});

test('a dynamic table size update within the server limit is honoured; garbage throws', () => {
  const rewriter = new HeaderBlockRewriter();
  // 0x20 | 0 = dynamic table size update to 0 (RFC 7541 §6.3), then an indexed :method POST (0x83).
  assert.equal(rewriter.rewrite(Buffer.from([0x20, 0x83, 0x86, 0x44, 0x01, 0x61, 0x41, 0x09, ...Buffer.from('localhost')])), undefined);
  assert.throws(() => new HeaderBlockRewriter().rewrite(Buffer.from([0xff, 0xff, 0x7f])));
  // A size update above what the server advertises is a decoding error.
  assert.throws(() => new HeaderBlockRewriter().rewrite(Buffer.from([0x3f, 0xe1, 0x3f])));
});
