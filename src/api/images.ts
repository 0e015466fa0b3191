/**
 * Validates the images of a classify request: each a 28×28 image as 784 numbers or 28 rows of
 * 28, every value an integer 0–255. Checked by hand so the error names the exact element
 * (`images.2.27.5`), which a union schema cannot do.
 */
import { ApiError } from './errors.js';

const SIDE = 28;
const PIXELS = SIDE * SIDE;

const bad = (field: string, message: string) => new ApiError(400, 'validation_error', `${field}: ${message}`, field);

function pixel(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 255) throw bad(field, 'expected an integer 0–255');
  return v;
}

export function parseClassifyBody(body: unknown, maxImages: number): Uint8Array[] {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw bad('', 'expected an object {"images": [...]}');
  const unknown = Object.keys(body).find((k) => k !== 'images');
  if (unknown) throw new ApiError(400, 'unknown_field', `unknown field ${unknown}`, unknown);
  const images = (body as { images?: unknown }).images;
  if (!Array.isArray(images)) throw bad('images', 'expected an array of 28×28 images');
  if (images.length === 0) throw bad('images', 'expected at least one image');
  if (images.length > maxImages) {
    throw new ApiError(400, 'limit_exceeded', `images has ${images.length} images, over the limit MAX_CLASSIFY_IMAGES = ${maxImages}`, 'images');
  }
  return images.map((image, i) => parseImage(image, `images.${i}`));
}

function parseImage(image: unknown, field: string): Uint8Array {
  if (!Array.isArray(image)) throw bad(field, 'expected 784 pixel values or 28 rows of 28');
  const out = new Uint8Array(PIXELS);
  if (image.length === PIXELS) {
    image.forEach((v, j) => (out[j] = pixel(v, `${field}.${j}`)));
    return out;
  }
  if (image.length === SIDE) {
    image.forEach((row, r) => {
      if (!Array.isArray(row) || row.length !== SIDE) throw bad(`${field}.${r}`, 'expected a row of 28 pixel values');
      row.forEach((v, c) => (out[r * SIDE + c] = pixel(v, `${field}.${r}.${c}`)));
    });
    return out;
  }
  throw bad(field, `expected 784 pixel values or 28 rows of 28, got ${image.length} elements`);
}
