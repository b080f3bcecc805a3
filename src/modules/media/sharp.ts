import type sharpModule from 'sharp';

let loaded: typeof sharpModule | undefined;

/**
 * sharp, loaded on the first image that needs it rather than when the process starts: it maps
 * libvips (~10 MB resident) into every process, and only media uploads and their variants use it.
 */
export function loadSharp(): typeof sharpModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (loaded ??= require('sharp') as typeof sharpModule);
}
