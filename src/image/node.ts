// Node-side image tooling (node:crypto, node:zlib): signing like imgtool, key generation, Zephyr DFU zips.
export * from './index.js';
export { createImage, type CreateImageOptions, type CustomTlv } from './sign.js';
export { generateKey, publicKeyPem } from './crypto-node.js';
export { readZip, readDfuPackage, type ZipEntry, type DfuPackage, type PackageImage } from './package.js';
