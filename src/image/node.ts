/**
 * `mcumgr-ts/image`: Node-side image tooling (node:crypto, node:zlib): signing like imgtool (key files, commands,
 * PKCS#11), encryption, key generation, Zephyr DFU zips; and everything `mcumgr-ts` has for images.
 *
 * @module mcumgr-ts/image
 */
export * from './index.js';
export {
  createImage,
  signImage,
  prepareImage,
  completeImage,
  imageHashAlgorithm,
  imgtoolTrailerSize,
  type CreateImageOptions,
  type CustomTlv,
  type EncryptionOptions,
  type ImageDependency,
  type PreparedImage,
  type SignedImage,
} from './sign.js';
export { decompressImage, decompressionTlvs, type DecompressionTlvs, type ImageCompression } from './compressed.js';
export { keyFileSigner, fixedSignatureSigner, checkedSignature, signingKeyInfo } from './signer-key.js';
export { commandSigner, decodeSignature, type SignerInput } from './signer-command.js';
export { pkcs11Signer, parsePkcs11Uri, isPkcs11Uri, type Pkcs11Uri } from './signer-pkcs11.js';
export { loadEncryptionKey, wrapImageKey, unwrapImageKey, aesCtr, decryptImage, isEncryptedImage, ENC_TLV_TYPES, type KeyExchange } from './encrypt.js';
export { generateKey, publicKeyPem, type KeygenType } from './crypto-node.js';
export {
  readKeyFile,
  imgtoolPublicBytes,
  publicKeyOutput,
  publicKeyHash,
  publicKeyHashOutput,
  privateKeyOutput,
  keyInfo,
  type KeyFile,
  type KeyInfo,
  type PublicEncoding,
} from './keys.js';
export { readZip, readDfuPackage, type ZipEntry, type DfuPackage, type PackageImage } from './package.js';
