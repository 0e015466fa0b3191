/**
 * Validates the images of a classify request: each an H×W image (28×28 for MNIST) as H·W numbers
 * or H rows of W, every value an integer 0–255. Checked by hand so the error names the exact element
 * (`images.2.27.5`), which a union schema cannot do.
 */
import { ApiError } from './errors.js';

export interface ImageSize {
  height: number;
  width: number;
}

const bad = (field: string, message: string) => new ApiError(400, 'validation_error', `${field}: ${message}`, field);

function pixel(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 255) throw bad(field, 'expected an integer 0–255');
  return v;
}

export function parseClassifyBody(body: unknown, maxImages: number, size: ImageSize = { height: 28, width: 28 }): Uint8Array[] {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw bad('', 'expected an object {"images": [...]}');
  const unknown = Object.keys(body).find((k) => k !== 'images');
  if (unknown) throw new ApiError(400, 'unknown_field', `unknown field ${unknown}`, unknown);
  const images = (body as { images?: unknown }).images;
  if (!Array.isArray(images)) throw bad('images', `expected an array of ${size.height}×${size.width} images`);
  if (images.length === 0) throw bad('images', 'expected at least one image');
  if (images.length > maxImages) {
    throw new ApiError(400, 'limit_exceeded', `images has ${images.length} images, over the limit MAX_CLASSIFY_IMAGES = ${maxImages}`, 'images');
  }
  return images.map((image, i) => parseImage(image, `images.${i}`, size));
}

function parseImage(image: unknown, field: string, { height, width }: ImageSize): Uint8Array {
  const PIXELS = height * width;
  const expected = `expected ${PIXELS} pixel values or ${height} rows of ${width}`;
  if (!Array.isArray(image)) throw bad(field, expected);
  const out = new Uint8Array(PIXELS);
  if (image.length === PIXELS) {
    image.forEach((v, j) => (out[j] = pixel(v, `${field}.${j}`)));
    return out;
  }
  if (image.length === height) {
    image.forEach((row, r) => {
      if (!Array.isArray(row) || row.length !== width) throw bad(`${field}.${r}`, `expected a row of ${width} pixel values`);
      row.forEach((v, c) => (out[r * width + c] = pixel(v, `${field}.${r}.${c}`)));
    });
    return out;
  }
  throw bad(field, `${expected}, got ${image.length} elements`);
}
