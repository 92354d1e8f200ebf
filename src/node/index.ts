/**
 * `mcumgr-ts/node`: the transports that need Node: a serial port (`serialport`, optional), UDP, a pseudo-terminal
 * (`node-pty`, optional) and a BLE adapter (`@stoprocent/noble`, optional). The optional packages load when first
 * used, so importing this entry needs none of them.
 *
 * @module mcumgr-ts/node
 */
export { SerialTransport, type SerialTransportOptions } from './serial.js';
export { UdpTransport, parseUdpAddress, SMP_UDP_DEFAULT_PORT, type UdpAddress, type UdpTransportOptions } from './udp.js';
export { openPty, type Pty } from './pty.js';
export { connectNoble, type NobleConnectOptions } from './ble-noble.js';
