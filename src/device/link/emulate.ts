/**
 * `mcumgr-sim --link`: the device's end of a real transport (a UDP peer, the pseudo-terminal) behaves as if the
 * client were across an emulated link: requests arrive after their wire time and latency, the device's buffers
 * and flash time their handling, answers leave the same way (the benchmark's model, src/device/link/link.ts).
 */
import { EmulatedLink, LINK_PROFILES, seededRandom, type LinkProfile } from './link.js';
import { DeviceEndpoint, TYPICAL_FLASH, type FlashModel } from './device-endpoint.js';
import { createMemoryPair } from '../../transport/memory.js';
import type { SmpTransport } from '../../transport/transport.js';

export interface LinkEmulation {
  profile: LinkProfile;
  flash: FlashModel;
}

const PROBABILITIES = ['loss', 'duplicate', 'reorder', 'corrupt'] as const;
const KEYS = ['baud', 'rate', 'latency', 'jitter', ...PROBABILITIES, 'erase', 'flash'];

/**
 * `PROFILE[,key=value...]`, e.g. `uart-115200`, `udp-20ms,loss=0.05,corrupt=0.01`, `uart-1M,erase=progressive`.
 * Keys: baud (serial, 8N1), rate (bytes/s), latency and jitter (ms), loss, duplicate, reorder and corrupt
 * (probabilities 0..1), erase (at-start | progressive), flash (programming speed, bytes/s).
 */
export function parseLinkSpec(spec: string): LinkEmulation {
  const [name, ...pairs] = spec.split(',');
  const base = LINK_PROFILES[name!];
  if (!base) throw new Error(`unknown link profile "${name}" (choose ${Object.keys(LINK_PROFILES).join(', ')})`);
  const profile: LinkProfile = { ...base };
  const flash: FlashModel = { ...TYPICAL_FLASH };
  for (const pair of pairs) {
    const [key, text] = pair.split('=');
    if (!key || text === undefined || !KEYS.includes(key)) throw new Error(`bad link setting "${pair}" (keys: ${KEYS.join(', ')})`);
    if (key === 'erase') {
      if (text !== 'at-start' && text !== 'progressive') throw new Error(`erase=${text}: at-start or progressive`);
      flash.erase = text;
      continue;
    }
    const value = Number(text);
    if (!Number.isFinite(value) || value < 0) throw new Error(`${key}=${text}: a number of at least 0`);
    if ((PROBABILITIES as readonly string[]).includes(key)) {
      if (value > 1) throw new Error(`${key}=${text}: a probability from 0 to 1`);
      profile[key as (typeof PROBABILITIES)[number]] = value;
    } else if (value === 0 && key !== 'latency' && key !== 'jitter') throw new Error(`${key}=${text}: must be above 0`);
    else if (key === 'baud') profile.bytesPerSecond = value / 10;
    else if (key === 'rate') profile.bytesPerSecond = value;
    else if (key === 'latency') profile.latencyMs = value;
    else if (key === 'jitter') profile.jitterMs = value;
    else flash.writeBytesPerSecond = value;
  }
  return { profile, flash };
}

/** Wraps the device's end of `raw`: what the server attaches instead of `raw`. */
export function emulateLink(raw: SmpTransport, link: LinkEmulation, buffers: { bufSize: number; bufCount: number }, seed = 1): SmpTransport {
  // Requests cross the link on their way in: through an emulated link into one end of a pair, out of the other.
  const [wireIn, deviceIn] = createMemoryPair(65_535);
  const inbound = new EmulatedLink(wireIn, link.profile, seededRandom(seed));
  raw.onPacket((packet) => void inbound.send(packet));
  const device: SmpTransport = {
    mtu: raw.mtu,
    framingOverhead: raw.framingOverhead,
    send: (packet) => raw.send(packet),
    onPacket: (listener) => deviceIn.onPacket(listener),
    onClose: (listener) => raw.onClose(listener),
    close: async () => {
      await inbound.close();
      await raw.close();
    },
  };
  const outbound = new EmulatedLink(device, link.profile, seededRandom(seed + 1));
  return new DeviceEndpoint(outbound, { bufferCount: buffers.bufCount, bufferSize: buffers.bufSize - raw.framingOverhead, flash: link.flash });
}
