import { generate } from 'selfsigned';

/** A PEM key and certificate. */
export interface TlsIdentity {
  readonly key: string;
  readonly cert: string;
}

/**
 * A self-signed certificate for the streaming server, valid for a year for `address` (and
 * localhost), made at every start as containerd's `enable_tls_streaming` does without a cert file.
 */
export async function selfSignedCert(address: string): Promise<TlsIdentity> {
  const ip = /^[\d.]+$|:/.test(address);
  const altNames = [
    { type: 2 as const, value: 'localhost' },
    { type: 7 as const, ip: '127.0.0.1' },
    ...(ip && address !== '127.0.0.1' ? [{ type: 7 as const, ip: address }] : []),
    ...(!ip && address !== 'localhost' ? [{ type: 2 as const, value: address }] : []),
  ];
  const notAfterDate = new Date(Date.now() + 365 * 24 * 3600 * 1000);
  const pems = await generate([{ name: 'commonName', value: 'crikit-streaming' }], {
    keyType: 'ec', curve: 'P-256', algorithm: 'sha256', notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}
