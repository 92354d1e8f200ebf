/**
 * `mcumgr-ts`: the browser-safe core. The SMP protocol, the command groups, the client with its image and file
 * transfers, the SMP serial framing codec, BLE over any GATT characteristic, Web Serial, Web Bluetooth, and MCUboot
 * image parsing and verification (WebCrypto). Nothing here needs Node: Node transports are in `mcumgr-ts/node`,
 * signing in `mcumgr-ts/image`, the virtual device in `mcumgr-ts/device`.
 *
 * @module mcumgr-ts
 */
export { SMP_HEADER_SIZE, Op, SmpVersion, encodeHeader, decodeHeader, encodePacket, decodePacket, responseOp } from './protocol/header.js';
export type { OpCode, SmpHeader, SmpPacket } from './protocol/header.js';
export * from './protocol/errors.js';
export { encodeCbor, decodeCbor, decodeCborMap, type CborLimits } from './protocol/cbor.js';
export * from './groups/index.js';

export { SmpClient, throwIfDeviceError } from './client/client.js';
export type { ClientOptions, RequestOptions, RawResponse, TraceDirection } from './client/client.js';
export { imageUpload, sha256, type ImageUploadOptions, type ImageUploadResult, type TransferProgress } from './client/upload.js';
export { fileUpload, fileDownload, deviceFileMatches, type FileTransferOptions } from './client/files.js';
export { waitForReboot, DEFAULT_RESET_DELAY_MS, type RebootWaitOptions } from './client/reboot.js';
export { readBufferParams, transferLimits, type TransferLimits } from './client/params.js';

export { TransportError, type SmpTransport } from './transport/transport.js';
export {
  crc16,
  encodeSerialFrames,
  SerialFrameDecoder,
  encodeRawPacket,
  RawPacketDecoder,
  FramingError,
  SERIAL_MAX_PACKET,
  type FramingErrorCode,
  type SerialFrameDecoderOptions,
  type RawPacketDecoderOptions,
} from './transport/serial-framing.js';
export { StreamSerialTransport, type ByteChannel, type SerialFramingOptions } from './transport/stream-serial.js';
export { createMemoryPair } from './transport/memory.js';
export { BleTransport, type BleTransportOptions } from './transport/ble.js';
export { SMP_SERVICE_UUID, SMP_CHARACTERISTIC_UUID, DEFAULT_ATT_MTU, type SmpCharacteristic } from './transport/ble-gatt.js';
export * from './transport/web-serial.js';
export * from './transport/web-bluetooth.js';

export * from './image/index.js';
export { readDfuPackageAsync, type DfuPackage } from './image/dfu-zip.js';
export type { ImageSlot } from './groups/image.js';
export type { TaskStat } from './groups/os.js';
