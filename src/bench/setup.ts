/** A virtual device behind an emulated link, for the benchmark: serial and UDP links, or BLE through the GATT peer. */
import { SmpClient } from '../client/client.js';
import { VirtualDevice } from '../device/device.js';
import { BleTransport } from '../transport/ble.js';
import { BleAir, TimedGattLink, type BleLinkProfile } from '../device/link/ble-link.js';
import { SimulatedGattPeer } from '../device/ble-sim.js';
import { EmulatedLink, seededRandom, type LinkProfile } from '../device/link/link.js';
import { DeviceEndpoint, TYPICAL_FLASH } from '../device/link/device-endpoint.js';
import { createMemoryPair } from '../transport/memory.js';

export type BenchProfile = { kind: 'wire'; link: LinkProfile } | { kind: 'ble'; link: BleLinkProfile };

/** The device's SMP buffers per link (CONFIG_MCUMGR_TRANSPORT_NETBUF_SIZE / _COUNT). */
export function deviceBuffers(p: BenchProfile): { bufSize: number; bufCount: number } {
  if (p.kind === 'ble') return { bufSize: 2475, bufCount: 4 };
  return p.link.name.startsWith('uart') ? { bufSize: 1024, bufCount: 4 } : { bufSize: 2048, bufCount: 4 };
}

export interface Impairment {
  /** Packet loss and corruption per packet (wire links), or LL PDU retransmissions (BLE). */
  loss: number;
  corrupt: number;
}

export interface Setup {
  client: SmpClient;
  endpoint: DeviceEndpoint;
  close(): Promise<void>;
}

export async function connect(p: BenchProfile, stateDir: string, seed: number, bad?: Impairment): Promise<Setup> {
  const { bufSize, bufCount } = deviceBuffers(p);
  const device = VirtualDevice.createSync({ stateDir, config: { bufSize, bufCount, slotSize: 0x80000 } });
  if (p.kind === 'ble') {
    const peer = new SimulatedGattPeer({ attMtu: p.link.attMtu, reassembly: true, bufSize });
    const link = { ...p.link, retransmit: bad ? bad.loss + bad.corrupt : 0 };
    const endpoint = new DeviceEndpoint(peer.deviceTransport(), { bufferCount: bufCount, bufferSize: bufSize, flash: TYPICAL_FLASH });
    device.server.attach(endpoint);
    const transport = await BleTransport.open(new TimedGattLink(peer, new BleAir(link, seed)), { reassembly: true });
    const client = new SmpClient(transport, { timeoutMs: 2000 });
    return {
      client,
      endpoint,
      close: async () => {
        await client.close();
        await device.close();
      },
    };
  }
  const profile = bad ? { ...p.link, loss: bad.loss, corrupt: bad.corrupt } : p.link;
  const [clientEnd, deviceEnd] = createMemoryPair(65_535);
  const clientLink = new EmulatedLink(clientEnd, profile, seededRandom(seed));
  const deviceLink = new EmulatedLink(deviceEnd, profile, seededRandom(seed + 1));
  const bufferSize = bufSize - clientLink.framingOverhead;
  const endpoint = new DeviceEndpoint(deviceLink, { bufferCount: bufCount, bufferSize, flash: TYPICAL_FLASH });
  device.server.attach(endpoint);
  const client = new SmpClient(clientLink, { timeoutMs: 2000 });
  return {
    client,
    endpoint,
    close: async () => {
      await clientLink.close();
      await deviceLink.close();
      await device.close();
    },
  };
}
