import { describe, expect, it } from 'vitest';
import { decodeCbor, decodeCborMap, encodeCbor, encodeCborIndefinite } from '../../src/protocol/cbor.js';
import { decodeHeader, decodePacket } from '../../src/protocol/header.js';
import { deviceCases, hex, toVectorJson, unhex } from '../helpers/vectors.js';

const cases = deviceCases();

describe('responses recorded from a real Zephyr 3.4 device', () => {
  const exchanges = cases.flatMap((c) => c.exchanges.filter((e) => e.response_packet_hex).map((e, i) => ({ name: `${c.name}#${i}`, e })));

  it('has the recorded cases', () => {
    expect(exchanges.length).toBeGreaterThan(150);
  });

  it.each(exchanges)('$name decodes to the recorded header and body', ({ e }) => {
    const packet = decodePacket(unhex(e.response_packet_hex!));
    const h = e.response_header!;
    expect(packet.header).toMatchObject({ op: h.op, version: h.version_bits, flags: h.flags, group: h.group, seq: h.seq, id: h.id, length: h.length });
    const body = decodeCborMap(packet.payload, { rejectDuplicateKeys: false });
    expect(toVectorJson(body)).toEqual(e.response_body_json);
    // Zephyr's zcbor output is reproduced byte for byte by the indefinite-length encoder.
    expect(hex(encodeCborIndefinite(body))).toBe(hex(packet.payload));
  });
});

describe('requests recorded against the device', () => {
  const wellFormed = cases.flatMap((c) =>
    c.exchanges.filter((e) => e.request_body_json !== undefined && e.request_body_json !== null).map((e, i) => ({ name: `${c.name}#${i}`, e })),
  );

  it.each(wellFormed)('$name decodes to the recorded fields', ({ e }) => {
    const bytes = unhex(e.request_packet_hex);
    const header = decodeHeader(bytes);
    expect(header.group).toBe(e.request_header.group);
    expect(header.id).toBe(e.request_header.id);
    const payload = bytes.subarray(8, 8 + header.length);
    expect(toVectorJson(decodeCbor(payload, { rejectDuplicateKeys: false }))).toEqual(e.request_body_json);
  });
});

describe('CBOR encoders', () => {
  it('encodes definite maps in insertion order, as the Go client does', () => {
    expect(hex(encodeCbor({ d: 'hello' }))).toBe('a161646568656c6c6f');
    expect(hex(encodeCbor({ z: 1, a: 2 }))).toBe('a2617a01616102');
  });

  it('encodes Zephyr-style errors byte for byte (reference §1.6)', () => {
    expect(hex(encodeCborIndefinite({ err: { group: 1, rc: 10 } }))).toBe('bf63657272bf6567726f7570016272630affff');
    expect(hex(encodeCborIndefinite({ rc: 8 }))).toBe('bf62726308ff');
    expect(hex(encodeCborIndefinite({}))).toBe('bfff');
  });
});
