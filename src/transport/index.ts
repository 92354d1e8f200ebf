/**
 * Browser-safe transport exports. Node transports are imported from their own modules:
 * `./serial.js` (SerialTransport, StreamSerialTransport), `./udp.js` (UdpTransport), `./pty.js` (openPty).
 */
export * from './transport.js';
export * from './serial-framing.js';
export * from './memory.js';
