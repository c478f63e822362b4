import type { ByteSource } from '../byte-source.ts';
import {
  HeaderError,
  checkDimensions,
  expectLength,
  startsWith,
  view,
  type ImageHeader,
} from '../image-header.ts';
import { expectEndMarker } from './tail.ts';

const EOI = [0xff, 0xd9];
/** Markers that stand alone, without a length field: TEM, RSTn, SOI. */
const isStandalone = (m: number): boolean => m === 0x01 || (m >= 0xd0 && m <= 0xd8);
/** Start-of-frame markers: C0–CF except DHT (C4), JPG (C8) and DAC (CC). */
const isStartOfFrame = (m: number): boolean =>
  m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;

export const isJpeg = (head: Uint8Array): boolean => startsWith(head, [0xff, 0xd8, 0xff]);

/** Walks the marker segments (skipping their bodies) up to the first start-of-frame. */
export async function readJpegHeader(source: ByteSource): Promise<ImageHeader> {
  let pos = 2;
  for (;;) {
    const seg = await source.read(pos, 10);
    expectLength(seg, 2, 'marker segments');
    if (seg[0] !== 0xff) throw new HeaderError(`corrupt JPEG: no marker at byte ${pos}`);
    const marker = seg[1];
    if (marker === 0xff) {
      pos += 1; // fill byte before a marker
      continue;
    }
    if (isStandalone(marker)) {
      pos += 2;
      continue;
    }
    if (marker === 0xda || marker === 0xd9) {
      throw new HeaderError('corrupt JPEG: no start-of-frame marker before the image data');
    }
    expectLength(seg, 4, 'marker segments');
    const length = view(seg).getUint16(2);
    if (isStartOfFrame(marker)) {
      expectLength(seg, 10, 'start-of-frame segment');
      const dv = view(seg);
      const height = dv.getUint16(5);
      const width = dv.getUint16(7);
      const components = seg[9];
      if (height === 0)
        throw new HeaderError('unsupported JPEG: height given later by a DNL marker');
      checkDimensions(width, height);
      if (components !== 1 && components !== 3 && components !== 4) {
        throw new HeaderError(`corrupt JPEG: ${components} colour components`);
      }
      await expectEndMarker(source, EOI, 'JPEG end-of-image marker');
      return { format: 'jpeg', width, height, channels: components };
    }
    if (length < 2) throw new HeaderError(`corrupt JPEG: segment length ${length} at byte ${pos}`);
    pos += 2 + length;
  }
}
