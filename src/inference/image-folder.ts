// A labeled set from a folder of images named by class (`CLASS/file.png`, or `SET/CLASS/file.png`),
// as torchvision's ImageFolder reads one: each image preprocessed into the model's input, its label
// the index of its folder's name in the task's class names (or in the sorted folder names when the
// task has none). Decoding is injected: the page decodes with createImageBitmap.
import type { TensorSet } from './evaluate';
import { preprocess, type ImageLike, type Preprocessing } from './image';

export interface ImageEntry {
  readonly path: string;
  decode(): Promise<ImageLike>;
}

export class ImageFolderError extends Error {
  override readonly name = 'ImageFolderError';
}

const IMAGE = /\.(png|jpe?g|gif|bmp|webp)$/i;

/** The class folder of a path: the directory the file is in (Windows separators too). */
const classOf = (path: string) => path.split(/[/\\]/).slice(-2, -1)[0];

/** macOS's AppleDouble companions (`._photo.png`) look like images but are not. */
const isAppleDouble = (path: string) => /(^|[/\\])\._[^/\\]*$/.test(path);

export async function labeledSetFromImages(
  entries: readonly ImageEntry[],
  p: Preprocessing,
  classNames?: readonly string[],
  onProgress?: (done: number, total: number) => void,
): Promise<{
  set: TensorSet & { readonly labels: Int32Array };
  classes: readonly string[];
}> {
  const images = entries.filter((e) => IMAGE.test(e.path) && !isAppleDouble(e.path));
  if (!images.length) throw new ImageFolderError('no images (.png, .jpg, .gif, .bmp, .webp) in the folder');
  const unfiled = images.filter((e) => classOf(e.path) === undefined).map((e) => e.path);
  if (unfiled.length)
    throw new ImageFolderError(
      `images must lie in a folder named by their class: ${unfiled.slice(0, 3).join(', ')}`,
    );
  const folders = [...new Set(images.map((e) => classOf(e.path) as string))].sort();
  const classes = classNames ?? folders;
  const unknown = folders.filter((f) => !classes.includes(f));
  if (unknown.length)
    throw new ImageFolderError(
      `folders that are not classes of this task: ${unknown.join(', ')} (its classes: ${classes.join(', ')})`,
    );
  let inputs: Float32Array | undefined;
  let sampleShape: number[] = [];
  const labels = new Int32Array(images.length);
  for (const [i, entry] of images.entries()) {
    let image: ImageLike;
    try {
      image = await entry.decode();
    } catch (e) {
      throw new ImageFolderError(
        `${entry.path}: not an image we can decode (${e instanceof Error ? e.message : String(e)})`,
      );
    }
    const { input, dims } = preprocess(image, p);
    if (!inputs) {
      inputs = new Float32Array(images.length * input.length);
      sampleShape = dims.slice(1);
    }
    inputs.set(input, i * input.length);
    labels[i] = classes.indexOf(classOf(entry.path) as string);
    onProgress?.(i + 1, images.length);
  }
  return { set: { inputs: inputs as Float32Array, sampleShape, labels }, classes };
}
