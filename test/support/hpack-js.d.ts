// The part of hpack.js (https://github.com/indutny/hpack.js) the raw HTTP/2 test client uses.
declare module 'hpack.js' {
  export interface HpackHeader { name: string; value: string; neverIndex?: boolean }
  /** A stateful HPACK encoder: write a header list, read the block. */
  export interface Compressor { write(headers: HpackHeader[]): boolean; read(): Buffer | null }
  /** A stateful HPACK decoder: write a block, execute, read the headers. */
  export interface Decompressor { write(block: Buffer): boolean; execute(): void; read(): HpackHeader | null; on(event: 'error', l: (e: Error) => void): this }
  interface Hpack {
    compressor: { create(options: { table: { maxSize: number } }): Compressor };
    decompressor: { create(options: { table: { maxSize: number } }): Decompressor };
  }
  const hpack: Hpack;
  export default hpack;
}
