import { promisify } from 'node:util';
import { brotliCompress, brotliDecompress, constants, gunzip, gzip } from 'node:zlib';

// One marker byte says how the rest is encoded, so a reader needs no other metadata.
const PLAIN = 0x6a; // 'j'
const GZIP = 0x67; // 'g'
const BROTLI = 0x62; // 'b'

const brotli = promisify(brotliCompress);
const unbrotli = promisify(brotliDecompress);
const gz = promisify(gzip);
const ungz = promisify(gunzip);

/** JSON text as a Redis value, compressed (off the event loop) when larger than `compressAbove` bytes. */
export async function encodeValue(text: string, compressAbove: number, compression: 'brotli' | 'gzip'): Promise<Buffer> {
  const plain = Buffer.from(text, 'utf8');
  if (plain.length <= compressAbove) return Buffer.concat([Buffer.of(PLAIN), plain]);
  if (compression === 'gzip') return Buffer.concat([Buffer.of(GZIP), await gz(plain, { level: 6 })]);
  const packed = await brotli(plain, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_SIZE_HINT]: plain.length },
  });
  return Buffer.concat([Buffer.of(BROTLI), packed]);
}

/** The JSON text of a stored value; `undefined` for a value this format does not know (or corrupt data). */
export async function decodeValue(value: Buffer): Promise<string | undefined> {
  const body = value.subarray(1);
  try {
    switch (value[0]) {
      case PLAIN:
        return body.toString('utf8');
      case GZIP:
        return (await ungz(body)).toString('utf8');
      case BROTLI:
        return (await unbrotli(body)).toString('utf8');
      default:
        return undefined;
    }
  } catch {
    return undefined;
  }
}
