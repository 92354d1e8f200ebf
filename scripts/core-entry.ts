// The browser-safe core whose bundle size `npm run size` checks: client and transfers, command groups,
// serial framing, BLE over any GATT characteristic, Web Serial, Web Bluetooth, image parse and verify.
// Stands in for the package's main entry (src/index.ts) until that exists.
export * from '../src/client/client.js';
export * from '../src/client/upload.js';
export * from '../src/client/files.js';
export * from '../src/groups/index.js';
export * from '../src/protocol/errors.js';
export * from '../src/transport/index.js';
export * from '../src/transport/ble.js';
export * from '../src/transport/ble-gatt.js';
export * from '../src/transport/web-serial.js';
export * from '../src/transport/web-bluetooth.js';
export * from '../src/image/index.js';
