import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  base64Decode,
  base64Encode,
  crc16,
  encodeRawPacket,
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

/** The base64 text of the serial frame for `packet` (length field, packet, CRC), unsplit. */
const frameText = (packet: Uint8Array) =>
  Buffer.from(encodeSerialFrames(packet, 1 << 20))
    .toString('latin1')
    .slice(2, -1);
/** A frame cut into lines holding the given pieces of base64 text (start marker first, then continuations). */
const frameLines = (pieces: string[], ending = '\n') => cat(...pieces.map((p, i) => cat(new Uint8Array(i === 0 ? [6, 9] : [4, 0x14]), ascii(p + ending))));
/** A text split at the given character positions. */
const cutAt = (text: string, ...cuts: number[]) => [0, ...cuts].map((c, i) => text.slice(c, [...cuts, text.length][i]));

function decoder(options: { maxPacket?: number; maxLineLength?: number; framesDecodedAlone?: boolean } = {}) {
  const errors: FramingError[] = [];
  const dec = new SerialFrameDecoder({ ...options, onError: (e) => errors.push(e) });
  return { dec, errors, codes: () => errors.map((e) => e.code) };
}

describe('base64 text split anywhere across lines', () => {
  const good = hex('0200000900004200a161646568656c6c6f');
  const text = 'ABMCAAAJAABCAKFhZGVoZWxsb8EJ'; // its frame text (reference §3.1.6)

  it('a frame cut into two lines at every position decodes, also fed byte by byte', () => {
    for (let cut = 0; cut < text.length; cut++) {
      const stream = frameLines(cutAt(text, cut));
      const { dec, errors } = decoder();
      expect(dec.push(stream).map(toHex), `cut ${cut}`).toEqual([toHex(good)]);
      const got: Uint8Array[] = [];
      for (const b of stream) got.push(...dec.push(new Uint8Array([b])));
      expect(got.map(toHex), `cut ${cut}, byte by byte`).toEqual([toHex(good)]);
      expect(errors, `cut ${cut}`).toEqual([]);
      expect(dec.bufferedBytes).toBe(0);
    }
  });

  it('lines of 1 to 7 characters each (the carried-over text longer than a line) decode', () => {
    for (let size = 1; size <= 7; size++) {
      const pieces = text.match(new RegExp(`.{1,${size}}`, 'g'))!;
      const { dec, errors } = decoder();
      expect(dec.push(frameLines(pieces)).map(toHex), `size ${size}`).toEqual([toHex(good)]);
      expect(errors).toEqual([]);
    }
  });

  it('a large packet whose first line is short, or on one long line, decodes', () => {
    const big = new Uint8Array(3000).map((_, i) => (i * 7) & 0xff);
    const bigText = frameText(big);
    for (const pieces of [[bigText], cutAt(bigText, 4), cutAt(bigText, 3), cutAt(bigText, 1, 6)]) {
      const { dec, errors } = decoder();
      expect(dec.push(frameLines(pieces)).map(toHex)).toEqual([toHex(big)]);
      expect(errors).toEqual([]);
    }
  });

  it('framesDecodedAlone: whole quads per line decode; a line that is not whole quads drops the packet', () => {
    const { dec, codes, errors } = decoder({ framesDecodedAlone: true });
    expect(dec.push(frameLines(cutAt(text, 8))).map(toHex)).toEqual([toHex(good)]);
    expect(dec.push(cat(ascii('log text '), frameLines(cutAt(text, 8)))).map(toHex)).toEqual([toHex(good)]);
    expect(dec.push(frameLines(cutAt(text, 6)))).toEqual([]);
    expect(codes()).toEqual(['bad-base64', 'orphan-continuation']);
    expect(errors[0]!.message).toMatch(/6 base64 characters/);
    expect(dec.push(encodeSerialFrames(good)).map(toHex)).toEqual([toHex(good)]);
  });

  it('CR line endings, trailing spaces and a CR after the marker are tolerated', () => {
    for (const [pieces, ending] of [
      [cutAt(text, 6), '\r\n'],
      [cutAt(text, 6), ' \r\n'],
      [cutAt(text, 5), '  \n'],
      [cutAt(text, 5).map((p) => '\r' + p), '\n'],
      [cutAt(text, 5, 5), '\r\n'], // an empty continuation line in between
    ] as const) {
      const { dec, errors } = decoder();
      expect(dec.push(frameLines([...pieces], ending)).map(toHex), JSON.stringify([pieces, ending])).toEqual([toHex(good)]);
      expect(errors).toEqual([]);
    }
  });

  it('single marker bytes (tab, 0x06, 0x04, 0x14) in log text are not frames, even inside a packet', () => {
    const logs = ascii('a\tb\n\x06c\n\x04d\ne\x14\nf\x09\n');
    const [first, second] = [frameLines([text.slice(0, 6)]), frameLines(['', text.slice(6)]).subarray(3)];
    const { dec, errors } = decoder();
    expect(dec.push(cat(logs, first, logs, second, logs)).map(toHex)).toEqual([toHex(good)]);
    expect(errors).toEqual([]);
  });

  it('bufferedBytes counts a partial line and a partial packet; reset() forgets both', () => {
    const { dec, codes } = decoder();
    dec.push(frameLines([text.slice(0, 2)])); // two characters carried over, nothing decoded yet
    expect(dec.bufferedBytes).toBeGreaterThan(0);
    dec.reset();
    expect(dec.bufferedBytes).toBe(0);
    dec.push(frameLines([text.slice(0, 4)])); // one quad decoded
    expect(dec.bufferedBytes).toBeGreaterThan(0);
    dec.push(ascii('partial'));
    expect(dec.bufferedBytes).toBeGreaterThanOrEqual(7);
    dec.reset();
    expect(dec.bufferedBytes).toBe(0);
    expect(dec.push(frameLines(['', text.slice(4)]).subarray(3))).toEqual([]);
    expect(codes()).toEqual(['orphan-continuation']);
    expect(dec.push(encodeSerialFrames(good)).map(toHex)).toEqual([toHex(good)]);
  });

  it('reset() in the middle of an over-long line: the next line is read again', () => {
    const { dec } = decoder({ maxLineLength: 64 });
    dec.push(new Uint8Array(100).fill(0x41));
    dec.reset();
    expect(dec.push(encodeSerialFrames(good)).map(toHex)).toEqual([toHex(good)]);
  });
});

describe('serial frame bounds and bad frames', () => {
  const good = hex('0200000900004200a161646568656c6c6f');
  const text = 'ABMCAAAJAABCAKFhZGVoZWxsb8EJ'; // its frame text (reference §3.1.6)
  const base64 = (bytes: number[]) => Buffer.from(bytes).toString('base64');

  it('a packet of exactly maxPacket bytes is accepted, one byte more is too large', () => {
    for (const lineLen of [127, 1 << 20]) {
      const { dec, codes } = decoder({ maxPacket: 64 });
      const fits = new Uint8Array(64).fill(1);
      expect(dec.push(encodeSerialFrames(fits, lineLen)).map(toHex)).toEqual([toHex(fits)]);
      expect(dec.push(encodeSerialFrames(new Uint8Array(65), lineLen))).toEqual([]);
      expect(codes()).toEqual(['too-large']);
    }
  });

  it('the too-large error names the size and the limit', () => {
    const { dec, errors } = decoder({ maxPacket: 1024 });
    dec.push(encodeSerialFrames(new Uint8Array(3000)));
    expect(errors.filter((e) => e.code === 'too-large').map((e) => e.message)).toEqual([expect.stringMatching(/3000 bytes exceeds maximum 1024/)]);
  });

  it('a first line carrying more than maxPacket allows is refused before its length field is believed', () => {
    const { dec, codes } = decoder({ maxPacket: 16 });
    dec.push(frameLines([base64([0, 10, ...new Uint8Array(40)])]));
    expect(codes()).toEqual(['too-large']);
  });

  it('a continuation line carrying more than the length field says is an overrun', () => {
    const raw = [...Buffer.from(frameText(good), 'base64'), 1, 2, 3];
    const { dec, codes, errors } = decoder({ maxPacket: good.length });
    expect(dec.push(frameLines(cutAt(base64(raw), 8)))).toEqual([]);
    expect(codes()).toEqual(['overrun']);
    expect(errors[0]!.message).toMatch(/more data than its length field/);
    expect(dec.push(encodeSerialFrames(good)).map(toHex)).toEqual([toHex(good)]);
  });

  it('a length field of 0 or 1 is refused as soon as it is read', () => {
    for (const frame of ['AAA=', 'AAE=']) {
      const { dec, codes } = decoder();
      expect(dec.push(frameLines([frame]))).toEqual([]);
      expect(codes()).toEqual(['bad-length']);
    }
  });

  it('a frame ending before its length field is complete is truncated', () => {
    const { dec, codes } = decoder();
    expect(dec.push(frameLines(['AA==']))).toEqual([]);
    expect(codes()).toEqual(['truncated']);
  });

  it('characters left over after the packet is complete drop it', () => {
    const { dec, codes } = decoder();
    expect(dec.push(frameLines([text + 'AB']))).toEqual([]);
    expect(codes()).toEqual(['bad-base64']);
  });

  it('a bad character in text carried over to the next line is refused at once', () => {
    const { dec, codes } = decoder();
    expect(dec.push(cat(frameLines([text.slice(0, 6) + '*']), encodeSerialFrames(good))).map(toHex)).toEqual([toHex(good)]);
    expect(codes()).toEqual(['bad-base64']);
  });

  it('bad padding: non-zero unused bits, or padding that leaves a partial quad', () => {
    for (const frame of ['ABMCAB==', 'ABMCA=', 'ABMC=A']) {
      const { dec, codes } = decoder();
      expect(() => dec.push(frameLines([frame]))).not.toThrow();
      expect(codes(), frame).toEqual(['bad-base64']);
    }
  });

  it('maxLineLength: a line of exactly the limit is kept, a longer one is dropped whole and reported once', () => {
    const framed = encodeSerialFrames(good);
    const exact = decoder({ maxLineLength: framed.length - 1 });
    expect(exact.dec.push(framed).map(toHex)).toEqual([toHex(good)]);

    const short = decoder({ maxLineLength: framed.length - 2 });
    expect(short.dec.push(framed)).toEqual([]);
    expect(short.codes()).toEqual(['line-too-long']);
    expect(short.errors[0]!.message).toMatch(new RegExp(`${framed.length - 2} bytes`));

    // Fed byte by byte, and with a frame in the over-long line's last chunk: still one error, no packet.
    const { dec, codes } = decoder({ maxLineLength: 64 });
    for (const b of new Uint8Array(200).fill(0x41)) dec.push(new Uint8Array([b]));
    expect(dec.push(framed)).toEqual([]);
    expect(codes()).toEqual(['line-too-long']);
    expect(dec.push(framed).map(toHex)).toEqual([toHex(good)]);
  });

  it('the default line limit is 8192 bytes', () => {
    const { dec, codes } = decoder();
    dec.push(cat(new Uint8Array(8193).fill(0x41), ascii('\n')));
    expect(codes()).toEqual(['line-too-long']);
    expect(dec.push(cat(new Uint8Array(8192).fill(0x41), ascii('\n'), encodeSerialFrames(good))).map(toHex)).toEqual([toHex(good)]);
    expect(codes()).toEqual(['line-too-long']);
  });

  it('every dropped frame is reported with a message', () => {
    const { dec, errors } = decoder({ maxPacket: 64, maxLineLength: 300 });
    dec.push(
      cat(
        frameLines(['ABMCAAAJAABCAKFhZGVoZWxsb8EK']), // bad CRC
        frameLines(['AAUCAAAJAABCAKFhZGVoZWxsb8EJ']), // overrun
        frameLines(['A'.repeat(400)]),
        frameLines([text.slice(0, 8)]),
        frameLines([text.slice(0, 8)]), // supersedes the first: truncated
        frameLines(['AB*C']),
        frameLines(['AAA=']),
        frameLines([text + 'AB']),
        frameLines(['ABMCAB==']),
        frameLines(['ABMCA=']),
        frameLines(['AA==']),
        encodeSerialFrames(new Uint8Array(100)),
        frameLines(['AAAA']),
        frameLines([text.slice(0, 1)]),
        ascii('\n'),
      ),
    );
    dec.push(frameLines(['', 'AAAA']).subarray(3)); // orphan continuation
    expect(new Set(errors.map((e) => e.code))).toEqual(
      new Set(['truncated', 'bad-base64', 'bad-length', 'too-large', 'orphan-continuation', 'bad-crc', 'overrun', 'line-too-long']),
    );
    for (const e of errors) expect(e.message, e.code).not.toBe('');
  });
});

describe('base64Decode ranges and the padded quad', () => {
  it('decodes a range of a larger buffer', () => {
    expect(base64Decode(ascii('xxQUJDyy'), 2, 6)).toEqual(ascii('ABC'));
    expect(base64Decode(ascii('AA=='), 4, 4)).toEqual(new Uint8Array(0));
  });
  it('refuses a bad character in the padded quad', () => {
    for (const bad of ['*A==', 'A*==', 'AA*=', '*AA=', 'A*A=', 'AAB=']) expect(base64Decode(ascii(bad)), bad).toBeNull();
    expect(base64Decode(ascii('AAA='))).toEqual(new Uint8Array(2));
  });
});

describe('encodeSerialFrames arguments', () => {
  it('refuses a line length too small for one quad, or not a number', () => {
    for (const maxLine of [6, 0, Number.NaN]) expect(() => encodeSerialFrames(new Uint8Array(4), maxLine)).toThrow(/too small/);
    expect(decodeAll(encodeSerialFrames(new Uint8Array(4), 7)).packets).toEqual([new Uint8Array(4)]);
  });
  it('the too-large error names the size', () => {
    expect(() => encodeSerialFrames(new Uint8Array(65534))).toThrow(/65534 bytes/);
  });
});

describe('raw decoder bounds and resynchronisation', () => {
  const smp = (payloadLength: number, op = 2) => {
    const p = new Uint8Array(8 + payloadLength).map((_, i) => (i < 8 ? 0 : i & 0xff));
    p[0] = op;
    p[2] = payloadLength >> 8;
    p[3] = payloadLength & 0xff;
    return p;
  };
  function raw(maxPacket?: number) {
    const errors: FramingError[] = [];
    const dec = new RawPacketDecoder({ maxPacket, onError: (e) => errors.push(e) });
    return { dec, errors, codes: () => errors.map((e) => e.code) };
  }
  const pkt = hex('0a00000200000105a0f6');

  it('raw mode writes the packet as is', () => expect(encodeRawPacket(pkt)).toBe(pkt));

  it('by default a full 16-bit payload fits; a packet of exactly maxPacket fits, larger is too large', () => {
    const full = smp(0xffff);
    expect(raw().dec.push(full)).toEqual([full]);
    const { dec, codes } = raw(100);
    expect(dec.push(smp(92)).map(toHex)).toEqual([toHex(smp(92))]);
    expect(dec.push(cat(smp(93).subarray(0, 4), pkt)).map(toHex)).toEqual([toHex(pkt)]);
    expect(codes()).toEqual(['too-large']);
  });

  it('a header with op > 3 or reserved bits set is garbage, skipped byte by byte', () => {
    for (const [garbage, code] of [
      [[0x0c], 'bad-header'], // op 4
      [[0x04, 0x00, 0xff, 0xff], 'bad-header'], // op 4 and too long: the op decides
      [[0x20, 0x00, 0xff, 0xff], 'bad-header'], // a reserved bit and too long
      [[0x20], 'bad-header'], // a reserved bit
      [[0x03, 0xff, 0xff], 'too-large'], // op 3, length beyond maxPacket
      [[0x00, 0xff, 0xff], 'too-large'],
    ] as const) {
      const { dec, codes } = raw(100);
      expect(dec.push(cat(new Uint8Array(garbage), pkt)).map(toHex), code).toEqual([toHex(pkt)]);
      expect(codes()).toEqual([code]);
      expect(dec.bufferedBytes).toBe(0);
    }
  });

  it('reports one error per run of garbage, with a message', () => {
    const { dec, errors } = raw(100);
    const got = dec.push(cat(hex('ffffff'), pkt, hex('ffff'), pkt));
    expect(got.map(toHex)).toEqual([toHex(pkt), toHex(pkt)]);
    expect(errors.length).toBe(2);
    for (const e of errors) expect(e.message).not.toBe('');
  });

  it('a chunk holding several packets, longer than maxPacket, decodes all of them', () => {
    const { dec, errors } = raw(64);
    const packets = [smp(32), smp(20), smp(40), smp(1), smp(30)]; // the last chunk fed is shorter than the room left
    expect(dec.push(cat(...packets)).map(toHex)).toEqual(packets.map(toHex));
    expect(dec.bufferedBytes).toBe(0);
    expect(errors).toEqual([]);
  });

  it('garbage, then a packet fed one byte at a time', () => {
    const { dec } = raw(100);
    dec.push(new Uint8Array(16).fill(0xff));
    const got: Uint8Array[] = [];
    for (const b of pkt) got.push(...dec.push(new Uint8Array([b])));
    expect(got.map(toHex)).toEqual([toHex(pkt)]);
  });

  it('a burst of more than 16 KiB followed by part of the next packet keeps that part', () => {
    const { dec } = raw();
    const [first, second] = [smp(20000), smp(2000)];
    expect(dec.push(cat(first, second.subarray(0, 1000))).length).toBe(1);
    expect(dec.bufferedBytes).toBe(1000);
    expect(dec.push(second.subarray(1000)).map(toHex)).toEqual([toHex(second)]);
  });

  it('reset() forgets a partial packet and the resynchronisation', () => {
    const { dec, errors } = raw(100);
    dec.push(pkt.subarray(0, 5));
    expect(dec.bufferedBytes).toBe(5);
    dec.reset();
    expect(dec.bufferedBytes).toBe(0);
    expect(dec.push(pkt).map(toHex)).toEqual([toHex(pkt)]);
    dec.push(new Uint8Array(12).fill(0xff));
    dec.reset();
    dec.push(new Uint8Array(12).fill(0xff));
    expect(errors.length).toBe(2);
  });
});
