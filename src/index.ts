/**
 * The library's browser entry (`mcumgr-ts`): client, transfers, command groups, Web Serial and Web Bluetooth
 * transports, image parsing and the protocol's errors. Node-only modules (node:crypto, node:zlib, serialport,
 * noble) are not reachable from here.
 */
export { SmpClient, type ClientOptions, type RequestOptions, type TraceDirection } from './client/client.js';
export { imageUpload, sha256, type ImageUploadOptions, type ImageUploadResult, type TransferProgress } from './client/upload.js';
export { fileUpload, fileDownload, deviceFileMatches, type FileTransferOptions } from './client/files.js';
export * from './groups/index.js';
export {
  SmpError,
  SmpDeviceError,
  SmpTimeoutError,
  SmpAbortError,
  SmpShapeError,
  GroupId,
  GROUP_NAMES,
} from './protocol/errors.js';
export { decodePacket, Op, type SmpHeader } from './protocol/header.js';
export { decodeCbor } from './protocol/cbor.js';
export { TransportError, type SmpTransport } from './transport/transport.js';
export { WebSerialTransport, requestSerialPort, type WebSerialPort, type WebSerialTransportOptions } from './transport/web-serial.js';
export {
  openWebBluetoothTransport,
  requestBluetoothDevice,
  webBluetoothCharacteristic,
  type WebBluetoothDevice,
  type WebBluetoothOptions,
} from './transport/web-bluetooth.js';
export { SMP_SERVICE_UUID, type SmpCharacteristic } from './transport/ble-gatt.js';
export { BleTransport } from './transport/ble.js';
export { ImageError } from './image/errors.js';
export { formatVersion, parseVersion, compareVersions, IMAGE_FLAGS, type ImageVersion } from './image/header.js';
export { tlvTypeName, type Tlv } from './image/tlv.js';
export { parseImage, toHex, type McubootImage } from './image/image.js';
export { ihexToBinary } from './image/ihex.js';
export { readDfuPackageAsync, type DfuPackage } from './image/dfu-zip.js';
export { verifyImage, type VerifyResult } from './image/verify.js';
export type { ImageSlot } from './groups/image.js';
export type { TaskStat } from './groups/os.js';
export { waitForReboot } from './client/reboot.js';
