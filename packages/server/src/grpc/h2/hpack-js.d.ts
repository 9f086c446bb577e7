// The part of hpack.js (https://github.com/indutny/hpack.js) crikit uses; the package ships no types.
declare module 'hpack.js' {
  /** One header field as hpack.js hands it out: name and value are latin1 strings, one char per octet. */
  export interface HpackHeader {
    name: string;
    value: string;
    neverIndex: boolean;
  }
  /** A stateful HPACK decoder (one per connection direction); errors are emitted as 'error'. */
  export interface Decompressor {
    write(chunk: Buffer): boolean;
    execute(): void;
    read(): HpackHeader | null;
    on(event: 'error', listener: (err: Error) => void): this;
  }
  /** A stateful HPACK encoder (crikit's tests use it as a client's). */
  export interface Compressor {
    write(headers: { name: string; value: string; neverIndex?: boolean }[]): boolean;
    read(): Buffer | null;
  }
  interface Hpack {
    compressor: { create(options: { table: { maxSize: number } }): Compressor };
    decompressor: { create(options: { table: { maxSize: number } }): Decompressor };
    'static-table': { map: Record<string, { index: number } | undefined> };
  }
  const hpack: Hpack;
  export default hpack;
}
