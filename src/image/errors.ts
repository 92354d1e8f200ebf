/** Error codes raised by the MCUboot image tooling. */
export type ImageErrorCode =
  | 'bad-magic'
  | 'truncated'
  | 'tlv-overrun'
  | 'bad-tlv-magic'
  | 'hash-mismatch'
  | 'no-hash'
  | 'signature-mismatch'
  | 'wrong-key'
  | 'no-signature'
  | 'bad-version'
  | 'bad-option'
  | 'bad-key'
  | 'too-large'
  /** A signer (command, PKCS#11 module) failed or refused. */
  | 'signer-failed'
  /** The optional package a signer or the LZMA2 compressor needs is not installed (or does not load). */
  | 'package-unavailable';

/** An error about an MCUboot image, with a machine-readable code and a one-line message. */
export class ImageError extends Error {
  readonly code: ImageErrorCode;
  constructor(code: ImageErrorCode, message: string) {
    super(message);
    this.name = 'ImageError';
    this.code = code;
  }
}

export function hex(n: number, width = 0): string {
  return `0x${n.toString(16).padStart(width, '0')}`;
}
