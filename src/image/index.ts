// Image parsing and verification: browser-safe (no Node API). Signing, key generation and DFU zips are in node.ts.
export { ImageError, type ImageErrorCode } from './errors.js';
export {
  IMAGE_MAGIC,
  IMAGE_MAGIC_V1,
  IMAGE_HEADER_SIZE,
  IMAGE_FLAGS,
  imageFlagNames,
  isCompressedImage,
  imageByteOrder,
  parseHeader,
  encodeHeader,
  parseVersion,
  formatVersion,
  formatVersionImgtool,
  compareVersions,
  type ByteOrder,
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
export { parseImage, isMcubootImage, findTlv, installedImageHash, toHex, type McubootImage } from './image.js';
export { verifyImage, assertImageValid, type VerifyOptions, type VerifyResult } from './verify.js';
export { importPemKey, importPublicKeyDer, type KeyType, type VerifyKey } from './crypto-web.js';
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
export { addSignature } from './sign-web.js';
export {
  BOOT_MAGIC,
  bootMagic,
  trailerOffsets,
  trailerSize,
  parseTrailer,
  encodeTrailerByte,
  type Trailer,
  type MagicState,
  type FlagState,
} from './trailer.js';
export { ihexToBinary, binaryToIhex, segmentsToIhex, IhexError, type IhexResult } from './ihex.js';
