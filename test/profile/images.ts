// Builders of small, genuine image files byte by byte, for tests and the profiling benchmark.
import { crc32, deflateSync } from 'node:zlib';

const u16be = (n: number): number[] => [(n >> 8) & 0xff, n & 0xff];
const u32be = (n: number): number[] => [
  (n >>> 24) & 0xff,
  (n >> 16) & 0xff,
  (n >> 8) & 0xff,
  n & 0xff,
];
const u16le = (n: number): number[] => [n & 0xff, (n >> 8) & 0xff];
const u32le = (n: number): number[] => [
  n & 0xff,
  (n >> 8) & 0xff,
  (n >> 16) & 0xff,
  (n >>> 24) & 0xff,
];
const bytesOf = (s: string): number[] => [...Buffer.from(s, 'latin1')];

/** PNG colour types: 0 gray, 2 RGB, 4 gray+alpha, 6 RGBA (8 bits per sample). */
export function png(width: number, height: number, colorType: 0 | 2 | 4 | 6 = 2): Buffer {
  const samples = { 0: 1, 2: 3, 4: 2, 6: 4 }[colorType];
  const raw = Buffer.alloc((width * samples + 1) * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width * samples; x++)
      raw[y * (width * samples + 1) + 1 + x] = (x * 7 + y * 13) & 0xff;
  }
  const chunk = (type: string, data: Buffer): Buffer => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    return Buffer.concat([Buffer.from(u32be(data.length)), body, Buffer.from(u32be(crc32(body)))]);
  };
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', Buffer.from([...u32be(width), ...u32be(height), 8, colorType, 0, 0, 0])),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * A decodable baseline JPEG of a flat mid-grey image: every block codes DC difference 0 and
 * end-of-block, each with a one-bit Huffman code, so the scan is 2 bits per block.
 * `appPadding` adds an APP1 segment of that many bytes before the frame header.
 */
export function jpeg(width: number, height: number, components: 1 | 3 = 3, appPadding = 0): Buffer {
  const seg = (marker: number, body: number[]): number[] => [
    0xff,
    marker,
    ...u16be(body.length + 2),
    ...body,
  ];
  const blocks = Math.ceil(width / 8) * Math.ceil(height / 8) * components;
  const scanBits = '00'.repeat(blocks).padEnd(Math.ceil((2 * blocks) / 8) * 8, '1');
  const scan = scanBits.match(/.{8}/g)!.map((b) => parseInt(b, 2));
  const comps = Array.from({ length: components }, (_, i) => i + 1);
  const oneCodeTable = (cls: number): number[] => [cls << 4, 1, ...new Array(15).fill(0), 0];
  return Buffer.from([
    0xff,
    0xd8,
    ...seg(0xe0, [...bytesOf('JFIF'), 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]),
    ...(appPadding ? seg(0xe1, new Array(appPadding).fill(0x20)) : []),
    ...seg(0xdb, [0, ...new Array(64).fill(1)]),
    ...seg(0xc0, [
      8,
      ...u16be(height),
      ...u16be(width),
      components,
      ...comps.flatMap((c) => [c, 0x11, 0]),
    ]),
    ...seg(0xc4, [...oneCodeTable(0), ...oneCodeTable(1)]),
    ...seg(0xda, [components, ...comps.flatMap((c) => [c, 0x00]), 0, 63, 0]),
    ...scan,
    0xff,
    0xd9,
  ]);
}

/** 24-bit colour, 8-bit grayscale palette, or 32-bit with an alpha mask (BITMAPV4HEADER). */
export function bmp(width: number, height: number, kind: 'rgb' | 'gray' | 'rgba' = 'rgb'): Buffer {
  const bitCount = { rgb: 24, gray: 8, rgba: 32 }[kind];
  const dibSize = kind === 'rgba' ? 108 : 40;
  const palette = kind === 'gray' ? Array.from({ length: 256 }, (_, i) => [i, i, i, 0]).flat() : [];
  const rowBytes = Math.floor((bitCount * width + 31) / 32) * 4;
  const pixelOffset = 14 + dibSize + palette.length;
  const size = pixelOffset + rowBytes * height;
  const dib = [
    ...u32le(dibSize),
    ...u32le(width),
    ...u32le(height),
    ...u16le(1),
    ...u16le(bitCount),
    ...u32le(kind === 'rgba' ? 3 : 0),
    ...u32le(rowBytes * height),
    ...u32le(2835),
    ...u32le(2835),
    ...u32le(kind === 'gray' ? 256 : 0),
    ...u32le(0),
  ];
  if (kind === 'rgba') {
    dib.push(
      ...u32le(0x00ff0000),
      ...u32le(0x0000ff00),
      ...u32le(0x000000ff),
      ...u32le(0xff000000),
    );
    dib.push(...bytesOf('sRGB'), ...new Array(108 - 56 - 4).fill(0));
  }
  const header = [...bytesOf('BM'), ...u32le(size), 0, 0, 0, 0, ...u32le(pixelOffset)];
  return Buffer.concat([
    Buffer.from([...header, ...dib, ...palette]),
    Buffer.alloc(rowBytes * height, 0x80),
  ]);
}

/** Uncompressed single-strip 8-bit TIFF with `samples` samples per pixel, in either byte order. */
export function tiff(width: number, height: number, samples: 1 | 3 | 4, little = true): Buffer {
  const u16 = little ? u16le : u16be;
  const u32 = little ? u32le : u32be;
  const tags: [number, number, number][] = [
    [256, 3, width],
    [257, 3, height],
    [258, 3, 8],
    [259, 3, 1],
    [262, 3, samples === 1 ? 1 : 2],
    [273, 4, 0], // strip offset, patched below
    [277, 3, samples],
    [278, 3, height],
    [279, 4, width * height * samples],
    ...(samples === 4 ? ([[338, 3, 2]] as [number, number, number][]) : []),
  ];
  const ifdOffset = 8;
  const dataOffset = ifdOffset + 2 + tags.length * 12 + 4;
  const entry = ([tag, type, value]: [number, number, number]): number[] => [
    ...u16(tag),
    ...u16(type),
    ...u32(1),
    ...(type === 3 ? [...u16(value), 0, 0] : u32(tag === 273 ? dataOffset : value)),
  ];
  return Buffer.concat([
    Buffer.from([
      ...(little ? [0x49, 0x49, 42, 0] : [0x4d, 0x4d, 0, 42]),
      ...u32(ifdOffset),
      ...u16(tags.length),
      ...tags.flatMap(entry),
      ...u32(0),
    ]),
    Buffer.alloc(width * height * samples, 0x40),
  ]);
}

function riff(chunks: [string, number[]][]): Buffer {
  const body = chunks.flatMap(([id, data]) => [
    ...bytesOf(id),
    ...u32le(data.length),
    ...data,
    ...(data.length % 2 ? [0] : []),
  ]);
  return Buffer.from([...bytesOf('RIFF'), ...u32le(4 + body.length), ...bytesOf('WEBP'), ...body]);
}

/** Lossless WebP header (signature, 14-bit sizes, alpha hint) followed by filler bits. */
export function webpLossless(width: number, height: number, alpha = false): Buffer {
  return riff([['VP8L', vp8l(width, height, alpha)]]);
}

function vp8l(width: number, height: number, alpha: boolean): number[] {
  const bits = ((width - 1) | ((height - 1) << 14) | ((alpha ? 1 : 0) << 28)) >>> 0;
  return [0x2f, ...u32le(bits), ...new Array(16).fill(0)];
}

/** Extended WebP: a VP8X chunk with the canvas size and alpha flag, then the image chunk. */
export function webpExtended(width: number, height: number, alpha: boolean): Buffer {
  const u24 = (n: number): number[] => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff];
  return riff([
    ['VP8X', [alpha ? 0x10 : 0, 0, 0, 0, ...u24(width - 1), ...u24(height - 1)]],
    ['VP8L', vp8l(width, height, alpha)],
  ]);
}

/** Lossy WebP: VP8 key-frame header (frame tag, start code, 14-bit sizes) and filler. */
export function webpLossy(width: number, height: number): Buffer {
  return riff([
    [
      'VP8 ',
      [
        0x50,
        0x02,
        0x00,
        0x9d,
        0x01,
        0x2a,
        ...u16le(width),
        ...u16le(height),
        ...new Array(12).fill(0),
      ],
    ],
  ]);
}

export interface DicomSpec {
  rows: number;
  columns: number;
  samplesPerPixel?: number;
  modality?: string;
  /** Implicit VR little endian data set (explicit VR little endian otherwise). */
  implicit?: boolean;
}

/**
 * A DICOM Part 10 file: preamble, "DICM", file meta group, and a data set with a nested
 * sequence of undefined length (which the reader must step over), then 8-bit pixel data.
 */
export function dicom(spec: DicomSpec): Buffer {
  const samples = spec.samplesPerPixel ?? 1;
  const explicitLE = (group: number, el: number, vr: string, value: number[]): number[] => {
    const long = ['OB', 'OW', 'SQ', 'UN', 'UT'].includes(vr);
    return [
      ...u16le(group),
      ...u16le(el),
      ...bytesOf(vr),
      ...(long ? [0, 0, ...u32le(value.length)] : u16le(value.length)),
      ...value,
    ];
  };
  const implicitLE = (group: number, el: number, _vr: string, value: number[]): number[] => [
    ...u16le(group),
    ...u16le(el),
    ...u32le(value.length),
    ...value,
  ];
  const text = (s: string, pad: number): number[] => {
    const b = bytesOf(s);
    return b.length % 2 ? [...b, pad] : b;
  };
  const ts = spec.implicit ? '1.2.840.10008.1.2' : '1.2.840.10008.1.2.1';
  const metaBody = [
    ...explicitLE(2, 1, 'OB', [0, 1]),
    ...explicitLE(2, 2, 'UI', text('1.2.840.10008.5.1.4.1.1.7', 0)),
    ...explicitLE(2, 3, 'UI', text('1.2.3.4.5.6.7', 0)),
    ...explicitLE(2, 0x10, 'UI', text(ts, 0)),
  ];
  const meta = [...explicitLE(2, 0, 'UL', u32le(metaBody.length)), ...metaBody];
  const e = spec.implicit ? implicitLE : explicitLE;
  const undefinedLength = [0xff, 0xff, 0xff, 0xff];
  // (0008,1140) Referenced Image Sequence, undefined length, one item of undefined length.
  const sequenceHeader = spec.implicit
    ? [...u16le(8), ...u16le(0x1140), ...undefinedLength]
    : [...u16le(8), ...u16le(0x1140), ...bytesOf('SQ'), 0, 0, ...undefinedLength];
  const sequence = [
    ...sequenceHeader,
    ...u16le(0xfffe),
    ...u16le(0xe000),
    ...undefinedLength,
    ...e(8, 0x1150, 'UI', text('1.2.840.10008.5.1.4.1.1.7', 0)),
    ...e(8, 0x1155, 'UI', text('1.2.3.4.5.6.8', 0)),
    ...u16le(0xfffe),
    ...u16le(0xe00d),
    ...u32le(0),
    ...u16le(0xfffe),
    ...u16le(0xe0dd),
    ...u32le(0),
  ];
  const pixels = new Array(spec.rows * spec.columns * samples).fill(0x7f);
  const dataSet = [
    ...e(8, 0x16, 'UI', text('1.2.840.10008.5.1.4.1.1.7', 0)),
    ...(spec.modality !== undefined ? e(8, 0x60, 'CS', text(spec.modality, 0x20)) : []),
    ...sequence,
    ...e(0x10, 0x10, 'PN', text('Anonymous^Patient', 0x20)),
    ...e(0x28, 2, 'US', u16le(samples)),
    ...e(0x28, 4, 'CS', text(samples === 1 ? 'MONOCHROME2' : 'RGB', 0x20)),
    ...e(0x28, 0x10, 'US', u16le(spec.rows)),
    ...e(0x28, 0x11, 'US', u16le(spec.columns)),
    ...e(0x28, 0x100, 'US', u16le(8)),
    ...e(0x7fe0, 0x10, 'OB', pixels.length % 2 ? [...pixels, 0] : pixels),
  ];
  return Buffer.from([...new Array(128).fill(0), ...bytesOf('DICM'), ...meta, ...dataSet]);
}
