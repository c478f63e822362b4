import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  modalityFromDicom,
  readImageHeaderFromBytes,
  readImageHeaderFromFile,
} from '../../src/profile/index.ts';
import * as img from './images.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'metallmix-formats-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const write = (name: string, bytes: Uint8Array): string => {
  const file = path.join(dir, name);
  writeFileSync(file, bytes);
  return file;
};

const header = (bytes: Uint8Array) => readImageHeaderFromBytes(bytes);

async function rejectsWith(bytes: Uint8Array, reason: RegExp): Promise<void> {
  await assert.rejects(header(bytes), (err: Error) => {
    assert.equal(err.name, 'HeaderError');
    assert.match(err.message, reason);
    return true;
  });
}

test('PNG: size and channels for each colour type', async () => {
  assert.deepEqual(await header(img.png(37, 21, 2)), {
    format: 'png',
    width: 37,
    height: 21,
    channels: 3,
  });
  assert.equal((await header(img.png(5, 9, 0))).channels, 1);
  assert.equal((await header(img.png(5, 9, 4))).channels, 2);
  assert.equal((await header(img.png(5, 9, 6))).channels, 4);
});

test('JPEG: SOF0 dimensions and components, also when the frame header lies beyond the first read', async () => {
  assert.deepEqual(await header(img.jpeg(33, 17, 3)), {
    format: 'jpeg',
    width: 33,
    height: 17,
    channels: 3,
  });
  assert.equal((await header(img.jpeg(16, 8, 1))).channels, 1);
  // A 20 kB APP1 (like EXIF with a thumbnail) pushes SOF past the 8 kB head read from disk.
  const file = write('exif.jpg', img.jpeg(640, 480, 3, 20000));
  assert.deepEqual(await readImageHeaderFromFile(file), {
    format: 'jpeg',
    width: 640,
    height: 480,
    channels: 3,
  });
});

test('BMP: 24-bit colour, 8-bit grayscale palette, 32-bit with alpha mask', async () => {
  assert.deepEqual(await header(img.bmp(13, 7, 'rgb')), {
    format: 'bmp',
    width: 13,
    height: 7,
    channels: 3,
  });
  assert.equal((await header(img.bmp(13, 7, 'gray'))).channels, 1);
  assert.equal((await header(img.bmp(13, 7, 'rgba'))).channels, 4);
});

test('TIFF: both byte orders, samples per pixel from tag 277', async () => {
  assert.deepEqual(await header(img.tiff(11, 6, 3, true)), {
    format: 'tiff',
    width: 11,
    height: 6,
    channels: 3,
  });
  assert.deepEqual(await header(img.tiff(300, 2, 1, false)), {
    format: 'tiff',
    width: 300,
    height: 2,
    channels: 1,
  });
  assert.equal((await header(img.tiff(4, 4, 4, false))).channels, 4);
});

test('WebP: lossy VP8, lossless VP8L (alpha hint), extended VP8X (alpha flag)', async () => {
  assert.deepEqual(await header(img.webpLossy(320, 200)), {
    format: 'webp',
    width: 320,
    height: 200,
    channels: 3,
  });
  assert.deepEqual(await header(img.webpLossless(16383, 1, true)), {
    format: 'webp',
    width: 16383,
    height: 1,
    channels: 4,
  });
  assert.equal((await header(img.webpLossless(8, 8, false))).channels, 3);
  assert.deepEqual(await header(img.webpExtended(70000, 5, false)), {
    format: 'webp',
    width: 70000,
    height: 5,
    channels: 3,
  });
  assert.equal((await header(img.webpExtended(7, 5, true))).channels, 4);
});

test('DICOM: explicit and implicit VR little endian, stepping over a nested sequence of undefined length', async () => {
  assert.deepEqual(await header(img.dicom({ rows: 20, columns: 30, modality: 'CR' })), {
    format: 'dicom',
    width: 30,
    height: 20,
    channels: 1,
    dicomModality: 'CR',
  });
  assert.deepEqual(
    await header(
      img.dicom({ rows: 64, columns: 48, samplesPerPixel: 3, modality: 'OPT', implicit: true }),
    ),
    {
      format: 'dicom',
      width: 48,
      height: 64,
      channels: 3,
      dicomModality: 'OPT',
    },
  );
  assert.equal((await header(img.dicom({ rows: 2, columns: 2 }))).dicomModality, undefined);
  // 200x200 pixel data (40 kB) puts everything after the head on disk.
  const file = write(
    'big.dcm',
    img.dicom({ rows: 200, columns: 200, modality: 'MR', implicit: true }),
  );
  assert.equal((await readImageHeaderFromFile(file)).dicomModality, 'MR');
});

test('DICOM modality codes map to profile modalities', () => {
  const cases: [string, string][] = [
    ['CR', 'xray'],
    ['DX', 'xray'],
    ['MG', 'xray'],
    ['CT', 'ct'],
    ['MR', 'mri'],
    ['US', 'ultrasound'],
    ['OP', 'fundus'],
    ['OPT', 'oct'],
    ['SM', 'histopathology'],
    ['GM', 'microscopy'],
    ['DMS', 'dermoscopy'],
    ['XC', 'other'],
    ['PT', 'other'],
    [' dx ', 'xray'],
    ['', 'unknown'],
  ];
  for (const [code, modality] of cases) assert.equal(modalityFromDicom(code), modality, code);
});

test('truncated, corrupt and non-image files are rejected with a reason', async () => {
  const cut = (b: Buffer, n: number): Buffer => b.subarray(0, n);
  await rejectsWith(cut(img.png(10, 10), 20), /^truncated: file ends inside the IHDR chunk/);
  await rejectsWith(cut(img.png(10, 10), 60), /^truncated: no PNG IEND chunk/);
  const badCrc = Buffer.from(img.png(10, 10));
  badCrc[17] ^= 1;
  await rejectsWith(badCrc, /IHDR checksum mismatch/);
  const jpg = img.jpeg(64, 64, 3);
  await rejectsWith(cut(jpg, 60), /^truncated: file ends inside the marker segments/);
  await rejectsWith(cut(jpg, jpg.length - 2), /^truncated: no JPEG end-of-image marker/);
  await rejectsWith(
    cut(img.bmp(20, 20), 500),
    /^truncated: BMP pixel array needs 1254 bytes, file has 500/,
  );
  await rejectsWith(
    cut(img.tiff(4, 4, 3, false), 20),
    /^truncated: file ends inside the TIFF image file directory/,
  );
  await rejectsWith(cut(img.webpLossless(9, 9), 35), /^truncated: WebP RIFF container/);
  const dcm = img.dicom({ rows: 10, columns: 10, modality: 'CT' });
  await rejectsWith(cut(dcm, dcm.length - 1), /^truncated: pixel data needs \d+ bytes/);
  await rejectsWith(cut(dcm, 300), /^truncated: file ends inside the DICOM data element/);
  await rejectsWith(Buffer.from('this is not an image at all'), /^not a supported image/);
  await rejectsWith(Buffer.alloc(0), /^empty file/);
});

test('the fixtures are genuine: Pillow decodes them to the sizes the header reader reports', async (t) => {
  const files: [string, Buffer][] = [
    ['p.png', img.png(37, 21, 6)],
    ['j.jpg', img.jpeg(33, 17, 3)],
    ['g.jpg', img.jpeg(9, 30, 1)],
    ['b.bmp', img.bmp(13, 7, 'gray')],
    ['t.tif', img.tiff(11, 6, 3, false)],
  ];
  const paths = files.map(([name, bytes]) => write(name, bytes));
  let out: string;
  try {
    out = execFileSync(
      '/usr/bin/python3',
      [
        '-c',
        'import sys\nfrom PIL import Image\nfor f in sys.argv[1:]:\n  i = Image.open(f); i.load(); print(i.size[0], i.size[1], len(i.getbands()))',
        ...paths,
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
  } catch {
    t.skip('/usr/bin/python3 with Pillow is not available');
    return;
  }
  const expected = await Promise.all(
    paths.map(async (p) => {
      const h = await readImageHeaderFromFile(p);
      return `${h.width} ${h.height} ${h.channels}`;
    }),
  );
  assert.deepEqual(out.trim().split('\n'), expected);
});
