// A minimal PNG encoder for dataset thumbnails: 8-bit grayscale, RGB or RGBA rows, unfiltered,
// deflated with node:zlib. Written here because a thumbnail needs ~30 lines and no PNG library is a
// dependency (pngjs and sharp would add far more than they save).
import { crc32, deflateSync } from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** PNG colour types by channel count. */
const COLOUR_TYPE: Readonly<Record<number, number>> = { 1: 0, 3: 2, 4: 6 };

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/** Encodes `pixels` (height × width × channels bytes, row-major) as a PNG; channels 1, 3 or 4. */
export function encodePng(pixels: Uint8Array, width: number, height: number, channels: number): Buffer {
  const colourType = COLOUR_TYPE[channels];
  if (colourType === undefined) throw new Error(`a PNG has 1, 3 or 4 channels, not ${channels}`);
  if (pixels.length !== width * height * channels) throw new Error(`${pixels.length} bytes is not ${height}×${width}×${channels}`);
  const stride = width * channels;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1); // filter byte 0: none
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, colourType, 0, 0, 0], 8);
  return Buffer.concat([SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}
