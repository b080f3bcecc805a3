import express, { type RequestHandler } from 'express';

/**
 * Serves stored files (the local storage driver's MEDIA_ROOT) under `/media/`. A key never changes
 * once written, so answers are cacheable for a year and immutable. `nosniff` and a CSP that runs
 * nothing keep a browser from treating a file as anything but the image its extension says; images
 * may be embedded by the storefront on another origin (Cross-Origin-Resource-Policy).
 * Only GET and HEAD; no directory listings, no dotfiles; a missing file falls through to the 404.
 */
export function mediaFiles(root: string): RequestHandler {
  return express.static(root, {
    index: false,
    dotfiles: 'deny',
    redirect: false,
    fallthrough: true,
    immutable: true,
    maxAge: '365d',
    setHeaders: (res) => {
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
      res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
    },
  });
}
