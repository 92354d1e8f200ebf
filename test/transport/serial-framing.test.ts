import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  base64Decode,
  base64Encode,
  crc16,
  encodeSerialFrames,
  type FramingError,
  RawPacketDecoder,
  SerialFrameDecoder,
} from '../../src/transport/serial-framing.js';
import { TransportError } from '../../src/transport/transport.js';
import { hex, loadExchanges, toHex } from './vectors.js';

const ascii = (s: string) => new TextEncoder().encode(s);
const cat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};

function decodeAll(bytes: Uint8Array) {
  const errors: FramingError[] = [];
  const dec = new SerialFrameDecoder({ onError: (e) => errors.push(e) });
  const packets = dec.push(bytes);
  return { packets, errors, dec };
}

describe('crc16 (CRC-16/XMODEM)', () => {
  it('check value "123456789" → 0x31C3', () => {
    expect(crc16(ascii('123456789'))).toBe(0x31c3);
  });
  it('empty → 0', () => expect(crc16(new Uint8Array())).toBe(0));
});

describe('base64', () => {
  it('matches Buffer for random data and rejects bad input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (d) => {
        const e = base64Encode(d);
        expect(Buffer.from(e).toString('latin1')).toBe(Buffer.from(d).toString('base64'));
        expect(base64Decode(e)).toEqual(d);
      }),
    );
    expect(base64Decode(ascii('AB*D'))).toBeNull();
    expect(base64Decode(ascii('ABC'))).toBeNull();
    expect(base64Decode(ascii('A=BC'))).toBeNull();
    expect(base64Decode(ascii('AB=C'))).toBeNull();
    expect(base64Decode(ascii('AB=='))).toBeNull(); // non-zero unused bits
    expect(base64Decode(ascii('AA=='))).toEqual(new Uint8Array([0]));
  });
});

describe('worked example (reference §3.1.6)', () => {
  const packet = hex('0200000900004200a16164656865' + '6c6c6f');
  const line = cat(new Uint8Array([6, 9]), ascii('ABMCAAAJAABCAKFhZGVoZWxsb8EJ'), new Uint8Array([0x0a]));
  it('encodes', () => {
    expect(crc16(packet)).toBe(0xc109);
    expect(toHex(encodeSerialFrames(packet))).toBe(toHex(line));
  });
  it('decodes', () => {
    const { packets, errors } = decodeAll(line);
    expect(packets.map(toHex)).toEqual([toHex(packet)]);
    expect(errors).toEqual([]);
  });
});

describe('recorded Zephyr 3.4 vectors', () => {
  const cases = loadExchanges();
  it('has vectors', () => expect(cases.length).toBeGreaterThan(150));

  it('every serial_sent_hex deframes to request_packet_hex (bad-CRC capture is rejected)', () => {
    let checked = 0;
    for (const { file, ex } of cases) {
      if (!ex.serial_sent_hex || !ex.request_packet_hex) continue;
      const { packets, errors } = decodeAll(hex(ex.serial_sent_hex));
      if (file === 'err_bad_crc.json') {
        expect(packets, file).toEqual([]);
        expect(
          errors.map((e) => e.code),
          file,
        ).toEqual(['bad-crc']);
        continue;
      }
      expect(packets.map(toHex), file).toEqual([ex.request_packet_hex]);
      expect(errors, file).toEqual([]);
      checked++;
    }
    expect(checked).toBeGreaterThan(150);
  });

  it('every serial_received_lines stream deframes to response_packet_hex', () => {
    let checked = 0;
    for (const { file, ex } of cases) {
      if (!ex.response_packet_hex) continue;
      const stream = cat(...(ex.serial_received_lines ?? []).map((l) => hex(l.hex)));
      const { packets, errors } = decodeAll(stream);
      expect(packets.map(toHex), file).toEqual([ex.response_packet_hex]);
      expect(errors, file).toEqual([]);
      // and byte by byte
      const dec = new SerialFrameDecoder();
      const got: Uint8Array[] = [];
      for (const b of stream) got.push(...dec.push(new Uint8Array([b])));
      expect(got.map(toHex), file).toEqual([ex.response_packet_hex]);
      checked++;
    }
    expect(checked).toBeGreaterThan(150);
  });

  it('encoding request_packet_hex reproduces serial_sent_hex (simple split), else round-trips', () => {
    let identical = 0;
    for (const { file, ex } of cases) {
      if (!ex.serial_sent_hex || !ex.request_packet_hex) continue;
      const pkt = hex(ex.request_packet_hex);
      const framed = encodeSerialFrames(pkt);
      if (file === 'err_bad_crc.json' || file === 'frame_split_multiple_of_4.json') {
        expect(toHex(framed)).not.toBe(ex.serial_sent_hex);
      } else {
        expect(toHex(framed), file).toBe(ex.serial_sent_hex);
        identical++;
      }
      expect(decodeAll(framed).packets.map(toHex)).toEqual([ex.request_packet_hex]);
    }
    expect(identical).toBeGreaterThan(150);
  });

  it('concatenated response streams with log lines between them decode in order', () => {
    const withResp = cases.filter((c) => c.ex.response_packet_hex);
    const stream = cat(
      ...withResp.flatMap((c) => [ascii('[00:00:01.000,000] <inf> smp_sample: log line\r\n'), ...(c.ex.serial_received_lines ?? []).map((l) => hex(l.hex))]),
    );
    const { packets, errors } = decodeAll(stream);
    expect(packets.map(toHex)).toEqual(withResp.map((c) => c.ex.response_packet_hex));
    expect(errors).toEqual([]);
  });

  it('Zephyr-style split (non-simple) lines are accepted', () => {
    const { packets } = decodeAll(hex('0609414251434141414b414142480a0414414b46685a475a7a634778706444524a37673d3d0a'));
    expect(packets.map(toHex)).toEqual(['0200000a00004700a161646673706c697434']);
  });
});

describe('encodeSerialFrames', () => {
  it('lines are ≤ 127 bytes, markers right, 124 chars per full line', () => {
    const framed = encodeSerialFrames(new Uint8Array(500).map((_, i) => i));
    const lines = Buffer.from(framed).toString('latin1').split('\n').slice(0, -1);
    expect(lines.length).toBe(Math.ceil((Math.ceil(504 / 3) * 4) / 124));
    lines.forEach((l, i) => {
      expect(l.length).toBeLessThanOrEqual(126);
      expect(l.charCodeAt(0)).toBe(i === 0 ? 6 : 4);
      expect(l.charCodeAt(1)).toBe(i === 0 ? 9 : 0x14);
      if (i < lines.length - 1) expect(l.length).toBe(126);
    });
  });
  it('custom line length', () => {
    const framed = encodeSerialFrames(new Uint8Array(100), 64);
    for (const l of Buffer.from(framed).toString('latin1').split('\n').slice(0, -1)) expect(l.length).toBeLessThanOrEqual(62);
    expect(decodeAll(framed).packets[0]).toEqual(new Uint8Array(100));
  });
  it('rejects packets too large for the 16-bit length field', () => {
    expect(() => encodeSerialFrames(new Uint8Array(65534))).toThrow(TransportError);
    expect(() => encodeSerialFrames(new Uint8Array(65533))).not.toThrow();
  });
});

/** Splits bytes at the given cut points. */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const pts = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of pts) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  out.push(bytes.subarray(prev));
  return out;
}

const textLine = fc
  .string({ maxLength: 80 })
  .map((s) => s.replace(/[\n\x04\x06]/g, '') + (s.length % 2 ? '\r\n' : '\n'))
  .map(ascii);

describe('round trip property', () => {
  it('packets up to 64 KiB, random chunking, interleaved text lines', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            packet: fc.oneof(
              { weight: 4, arbitrary: fc.uint8Array({ maxLength: 600 }) },
              { weight: 1, arbitrary: fc.integer({ min: 0, max: 65533 }).map((n) => new Uint8Array(n).map((_, i) => (i * 31 + n) & 0xff)) },
            ),
            before: fc.array(textLine, { maxLength: 2 }),
          }),
          { minLength: 1, maxLength: 4 },
        ),
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.integer({ min: 7, max: 200 }),
        (items, cuts, lineLen) => {
          const stream = cat(...items.flatMap((it) => [...it.before, encodeSerialFrames(it.packet, lineLen)]));
          const errors: FramingError[] = [];
          const dec = new SerialFrameDecoder({ onError: (e) => errors.push(e) });
          const got: Uint8Array[] = [];
          for (const chunk of split(stream, cuts)) got.push(...dec.push(chunk));
          expect(got.length).toBe(items.length);
          got.forEach((p, i) => expect(toHex(p)).toBe(toHex(items[i]!.packet)));
          expect(errors).toEqual([]);
          expect(dec.bufferedBytes).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('raw decoder: back-to-back SMP packets, random chunking', () => {
    const smp = fc
      .record({
        op: fc.integer({ min: 0, max: 3 }),
        ver: fc.integer({ min: 0, max: 3 }),
        payload: fc.uint8Array({ maxLength: 3000 }),
        seq: fc.nat(255),
      })
      .map(({ op, ver, payload, seq }) => {
        const p = new Uint8Array(8 + payload.length);
        p[0] = (ver << 3) | op;
        p[2] = payload.length >> 8;
        p[3] = payload.length & 0xff;
        p[6] = seq;
        p.set(payload, 8);
        return p;
      });
    fc.assert(
      fc.property(fc.array(smp, { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 20 }), (pkts, cuts) => {
        const dec = new RawPacketDecoder();
        const got: Uint8Array[] = [];
        for (const c of split(cat(...pkts), cuts)) got.push(...dec.push(c));
        expect(got.map(toHex)).toEqual(pkts.map(toHex));
        expect(dec.bufferedBytes).toBe(0);
      }),
      { numRuns: 300 },
    );
  });
});

describe('bad input: no packet, onError, never throws', () => {
  const good = hex('0200000900004200a161646568656c6c6f');
  const line = (text: string, marker = [6, 9]) => cat(new Uint8Array(marker), ascii(text), ascii('\n'));

  const expectError = (bytes: Uint8Array, code: string, opts: { maxPacket?: number; maxLineLength?: number } = {}) => {
    const errors: FramingError[] = [];
    const dec = new SerialFrameDecoder({ ...opts, onError: (e) => errors.push(e) });
    let packets: Uint8Array[] = [];
    expect(() => (packets = dec.push(bytes))).not.toThrow();
    expect(packets).toEqual([]);
    expect(errors.map((e) => e.code)).toContain(code);
    expect(errors[0]).toBeInstanceOf(TransportError);
    // and the decoder still works afterwards
    expect(dec.push(encodeSerialFrames(good)).map(toHex)).toEqual([toHex(good)]);
  };

  it('bad CRC', () => expectError(line('ABMCAAAJAABCAKFhZGVoZWxsb8EK'), 'bad-crc'));
  it('bad base64 character', () => expectError(line('ABMCAAAJAABCAKFhZGVoZW*sb8EJ'), 'bad-base64'));
  it('padding in the middle', () => expectError(line('ABM=AAAJ'), 'bad-base64'));
  it('truncated packet (padding before length reached)', () => expectError(line('ABMCAA=='), 'truncated'));
  it('truncated packet superseded by a new start', () => {
    const errors: FramingError[] = [];
    const dec = new SerialFrameDecoder({ onError: (e) => errors.push(e) });
    expect(dec.push(cat(line('ABMCAAAJAABC'), encodeSerialFrames(good))).map(toHex)).toEqual([toHex(good)]);
    expect(errors.map((e) => e.code)).toEqual(['truncated']);
  });
  it('more data than length', () => expectError(line('AAUCAAAJAABCAKFhZGVoZWxsb8EJ'), 'overrun'));
  it('length field < 2', () => expectError(line('AAECAA=='), 'bad-length'));
  it('oversize packet', () => expectError(encodeSerialFrames(new Uint8Array(3000)), 'too-large', { maxPacket: 1024 }));
  it('line too long', () => expectError(cat(new Uint8Array([6, 9]), new Uint8Array(10000).fill(0x41), ascii('\n')), 'line-too-long', { maxLineLength: 8192 }));
  it('orphan continuation', () => expectError(line('AAAA', [4, 0x14]), 'orphan-continuation'));
  it('garbage', () => {
    const errors: FramingError[] = [];
    const dec = new SerialFrameDecoder({ onError: (e) => errors.push(e) });
    expect(dec.push(ascii('hello\r\nuart:~$ \x1b[1;32mcolor\x1b[m\n\r\n'))).toEqual([]);
    expect(errors).toEqual([]);
  });
  it('a throwing onError does not break decoding', () => {
    const dec = new SerialFrameDecoder({
      onError: () => {
        throw new Error('boom');
      },
    });
    expect(dec.push(cat(line('AB*C'), encodeSerialFrames(good))).map(toHex)).toEqual([toHex(good)]);
  });
  it('raw decoder resyncs on garbage and drops oversize headers', () => {
    const errors: FramingError[] = [];
    const dec = new RawPacketDecoder({ maxPacket: 100, onError: (e) => errors.push(e) });
    const pkt = hex('0a00000200000105a0f6');
    const got = dec.push(cat(hex('ffe7ff'), hex('0a00ffff'), pkt));
    expect(got.map(toHex)).toEqual([toHex(pkt)]);
    expect(errors.length).toBeGreaterThan(0);
  });
});
