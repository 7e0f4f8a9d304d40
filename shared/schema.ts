/**
 * The one way in to zod: `zod/mini`, with English messages configured once. Every schema imports
 * it as a namespace, `import * as z from '../schema'`, never `zod` itself.
 *
 * Why mini: classic `zod` attaches every method (JSON Schema, every locale…) to every schema, so a
 * bundle cannot drop any of it (~460 KiB in each function). `zod/mini` has plain functions instead
 * (`z.optional(s)`, `s.check(z.minLength(1))`), so each function carries only what it uses.
 * Why the locale here: `zod/mini` sets none, which leaves every message a bare "Invalid input";
 * classic sets English, and the messages our errors carry are those. `en` alone: `z.locales`
 * would pull in every language again.
 * Why `export *` and a namespace import: esbuild drops what a namespace import never touches, but
 * keeps all of a namespace that is passed on as a value (`export { z }`, `import { z }`).
 *
 * @example const name = z.string().check(z.minLength(1)); // "Too small: expected string to have >=1 characters"
 */
import { en } from 'zod/locales';
import { config } from 'zod/mini';

config(en());

export * from 'zod/mini';
