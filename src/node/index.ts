/**
 * `mcumgr-ts/node`: what needs Node. Transports over a serial port (`serialport`, optional), UDP, a pseudo-terminal
 * (`node-pty`, optional) and a BLE adapter (`@stoprocent/noble`, optional), and reading DFU zip packages
 * (`node:zlib`). The optional native modules load when first used, so importing this entry needs none of them.
 *
 * @module mcumgr-ts/node
 */
export { SerialTransport, type SerialTransportOptions } from './serial.js';
export { UdpTransport, parseUdpAddress, SMP_UDP_DEFAULT_PORT, type UdpAddress, type UdpTransportOptions } from './udp.js';
export { openPty, type Pty } from './pty.js';
export { connectNoble, type NobleConnectOptions } from './ble-noble.js';
export { readZip, readDfuPackage, type ZipEntry, type DfuPackage, type PackageImage } from '../image/package.js';
