export { ImageError, type ImageErrorCode } from './errors.js';
export {
  IMAGE_MAGIC,
  IMAGE_MAGIC_V1,
  IMAGE_HEADER_SIZE,
  IMAGE_FLAGS,
  parseHeader,
  encodeHeader,
  parseVersion,
  formatVersion,
  formatVersionImgtool,
  compareVersions,
  type ImageHeader,
  type ImageVersion,
} from './header.js';
export {
  TLV_TYPES,
  TLV_INFO_MAGIC,
  TLV_PROT_INFO_MAGIC,
  tlvTypeName,
  isVendorTlv,
  parseTlvArea,
  encodeTlvArea,
  type Tlv,
  type TlvArea,
  type TlvTypeName,
} from './tlv.js';
export { parseImage, isMcubootImage, findTlv, toHex, type McubootImage } from './image.js';
export { verifyImage, assertImageValid, type VerifyOptions, type VerifyResult } from './verify.js';
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
} from './sign.js';
export {
  signatureHash,
  signatureTlvTypeFor,
  ecdsaRawToDer,
  webCryptoSigner,
  webCryptoPublicKeyBytes,
  type ImageSigner,
  type SignRequest,
  type SignatureKeyType,
  type ImageHashAlgorithm,
} from './signer.js';
export { keyFileSigner, fixedSignatureSigner, checkedSignature, signingKeyInfo } from './signer-key.js';
export { commandSigner, decodeSignature, type SignerInput } from './signer-command.js';
export { pkcs11Signer, parsePkcs11Uri, isPkcs11Uri, type Pkcs11Uri } from './signer-pkcs11.js';
export { loadEncryptionKey, wrapImageKey, unwrapImageKey, aesCtr, decryptImage, isEncryptedImage, ENC_TLV_TYPES, type KeyExchange } from './encrypt.js';
export { generateKey, publicKeyPem, type KeyType } from './crypto-node.js';
export { BOOT_MAGIC, bootMagic, trailerOffsets, trailerSize, parseTrailer, encodeTrailerByte, type Trailer, type MagicState, type FlagState } from './trailer.js';
export { ihexToBinary, binaryToIhex, IhexError, type IhexResult } from './ihex.js';
export { readZip, readDfuPackage, type ZipEntry, type DfuPackage, type PackageImage } from './package.js';
