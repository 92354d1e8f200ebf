/**
 * `mcumgr-ts/device`: the virtual Zephyr smp_svr device with MCUboot (Node), to test apps and scripts against. Serve
 * it over UDP with `UdpSmpServer`, over BLE with `SimulatedGattPeer`, in-process with `createMemoryPair`, or behind
 * an emulated link (bandwidth, latency, loss) with `emulateLink`.
 *
 * @module mcumgr-ts/device
 */
export { VirtualDevice, type CreateDeviceOptions } from './device.js';
export { defaultConfig, zephyr34SmpSvrConfig, loadSimConfig, type DeviceConfig, type DeviceConfigInput } from './config.js';
export { SmpServer, type Handler, type HandlerContext, type ServerOptions, type RegisterOptions } from './server.js';
export { UdpSmpServer, type UdpServerOptions } from './udp-server.js';
export { SimulatedGattPeer, AttError, AttErrorCode, type SimulatedGattPeerOptions } from './ble-sim.js';
export { emulateLink, parseLinkSpec, type LinkEmulation } from './link/emulate.js';
export { LINK_PROFILES, type LinkProfile } from './link/link.js';
export { createMemoryPair } from '../transport/memory.js';
