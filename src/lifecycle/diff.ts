// `bootsmith diff A B`: resolve each side to a local artifact directory (as is, or fetched from
// where it was published), gather its facts and compare them.
import { diffImages, type ImageDiff } from "./image-diff.js";
import { readImageFacts } from "./image-facts.js";
import { openSource, type SourceOptions } from "./source.js";

export async function diffSources(a: string, b: string, options: SourceOptions = {}): Promise<ImageDiff> {
  const left = await openSource(a, options);
  try {
    const right = await openSource(b, options);
    try {
      const [x, y] = await Promise.all([readImageFacts(left.dir, a, options.signal), readImageFacts(right.dir, b, options.signal)]);
      return diffImages(x, y);
    } finally {
      await right.close();
    }
  } finally {
    await left.close();
  }
}
