import type { ByteSource } from '../byte-source.ts';
import { HeaderError, ascii, expectLength, view, type ImageHeader } from '../image-header.ts';

const PREAMBLE = 128;
const TRANSFER_SYNTAX = 0x00020010;
const MODALITY = 0x00080060;
const SAMPLES_PER_PIXEL = 0x00280002;
const ROWS = 0x00280010;
const COLUMNS = 0x00280011;
const PIXEL_DATA = 0x7fe00010;
const ITEM_END = 0xfffee00d;
const SEQUENCE_END = 0xfffee0dd;
const UNDEFINED = 0xffffffff;
/** Explicit VRs with a 2-byte reserved field and a 4-byte length. */
const LONG_VRS = new Set([
  'OB',
  'OD',
  'OF',
  'OL',
  'OV',
  'OW',
  'SQ',
  'SV',
  'UC',
  'UN',
  'UR',
  'UT',
  'UV',
]);
const IMPLICIT_LITTLE = '1.2.840.10008.1.2';
const EXPLICIT_BIG = '1.2.840.10008.1.2.2';
const DEFLATED = '1.2.840.10008.1.2.1.99';
const MAX_NESTING = 32;
/** Longest string value worth reading (UIDs are at most 64 bytes, code strings 16). */
const MAX_TEXT = 256;

export const isDicom = (head: Uint8Array): boolean =>
  head.length >= PREAMBLE + 4 && ascii(head, PREAMBLE, 4) === 'DICM';

interface Encoding {
  explicit: boolean;
  little: boolean;
}

interface Element {
  tag: number;
  length: number;
  valueOffset: number;
}

/**
 * Walks the data elements of a DICOM Part 10 file up to the pixel data, keeping Modality,
 * Rows, Columns and SamplesPerPixel and stepping over every other value (and sequence)
 * without reading it.
 */
export async function readDicomHeader(source: ByteSource): Promise<ImageHeader> {
  const reader = new ElementReader(source);
  // The file meta group (0002,xxxx) is always explicit VR little endian.
  let enc: Encoding = { explicit: true, little: true };
  let pos = PREAMBLE + 4;
  let transferSyntax: string | undefined;
  for (;;) {
    const group = await reader.peekGroup(pos, enc);
    if (group !== 0x0002) break;
    const el = await reader.element(pos, enc);
    if (el.tag === TRANSFER_SYNTAX) transferSyntax = await reader.text(el);
    pos = el.valueOffset + el.length;
  }
  if (transferSyntax === undefined) {
    throw new HeaderError('corrupt DICOM: no transfer syntax (0002,0010) in the file meta group');
  }
  if (transferSyntax === DEFLATED) throw new HeaderError('unsupported DICOM: deflated data set');
  enc = {
    explicit: transferSyntax !== IMPLICIT_LITTLE,
    little: transferSyntax !== EXPLICIT_BIG,
  };

  const found = new Map<number, number | string>();
  const size = await source.size();
  while (pos < size) {
    const el = await reader.element(pos, enc);
    if (el.tag === PIXEL_DATA) {
      if (el.length !== UNDEFINED && el.valueOffset + el.length > size) {
        throw new HeaderError(
          `truncated: pixel data needs ${el.valueOffset + el.length} bytes, file has ${size}`,
        );
      }
      break;
    }
    if (el.tag === MODALITY) found.set(el.tag, await reader.text(el));
    else if (el.tag === ROWS || el.tag === COLUMNS || el.tag === SAMPLES_PER_PIXEL) {
      found.set(el.tag, await reader.uint16(el, enc));
    }
    pos =
      el.length === UNDEFINED
        ? await reader.skipUndefined(el.valueOffset, enc, 0)
        : el.valueOffset + el.length;
  }
  const height = found.get(ROWS);
  const width = found.get(COLUMNS);
  if (typeof width !== 'number' || typeof height !== 'number' || !width || !height) {
    throw new HeaderError('DICOM without an image: no Rows/Columns (0028,0010)/(0028,0011)');
  }
  const samples = found.get(SAMPLES_PER_PIXEL);
  const channels = typeof samples === 'number' && samples >= 1 && samples <= 4 ? samples : 1;
  const modality = found.get(MODALITY);
  return {
    format: 'dicom',
    width,
    height,
    channels,
    ...(typeof modality === 'string' && modality ? { dicomModality: modality } : {}),
  };
}

class ElementReader {
  constructor(private readonly source: ByteSource) {}

  async peekGroup(pos: number, enc: Encoding): Promise<number | undefined> {
    const b = await this.source.read(pos, 2);
    return b.length < 2 ? undefined : view(b).getUint16(0, enc.little);
  }

  async element(pos: number, enc: Encoding): Promise<Element> {
    const b = await this.source.read(pos, 12);
    expectLength(b, 8, 'DICOM data element header');
    const dv = view(b);
    const tag = ((dv.getUint16(0, enc.little) << 16) | dv.getUint16(2, enc.little)) >>> 0;
    // Items and delimiters carry no VR, in either encoding.
    if (!enc.explicit || tag >>> 16 === 0xfffe) {
      return { tag, length: dv.getUint32(4, enc.little), valueOffset: pos + 8 };
    }
    const vr = ascii(b, 4, 2);
    if (!/^[A-Z]{2}$/.test(vr)) {
      throw new HeaderError(`corrupt DICOM: invalid VR at byte ${pos}`);
    }
    if (LONG_VRS.has(vr)) {
      expectLength(b, 12, 'DICOM data element header');
      return { tag, length: dv.getUint32(8, enc.little), valueOffset: pos + 12 };
    }
    return { tag, length: dv.getUint16(6, enc.little), valueOffset: pos + 8 };
  }

  async text(el: Element): Promise<string> {
    if (el.length > MAX_TEXT) throw new HeaderError(`corrupt DICOM: ${el.length}-byte code string`);
    const b = await this.source.read(el.valueOffset, el.length);
    expectLength(b, el.length, 'DICOM data element value');
    return ascii(b, 0, b.length)
      .replace(/[\0 ]+$/, '')
      .trim();
  }

  async uint16(el: Element, enc: Encoding): Promise<number> {
    const b = await this.source.read(el.valueOffset, 2);
    expectLength(b, 2, 'DICOM data element value');
    return view(b).getUint16(0, enc.little);
  }

  /** Steps over a sequence or item of undefined length; returns the offset after its delimiter. */
  async skipUndefined(pos: number, enc: Encoding, depth: number): Promise<number> {
    if (depth > MAX_NESTING) throw new HeaderError('corrupt DICOM: sequences nested too deeply');
    for (;;) {
      const el = await this.element(pos, enc);
      if (el.tag === SEQUENCE_END || el.tag === ITEM_END) return el.valueOffset;
      if (el.length === UNDEFINED) pos = await this.skipUndefined(el.valueOffset, enc, depth + 1);
      else pos = el.valueOffset + el.length;
    }
  }
}
