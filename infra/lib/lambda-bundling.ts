import { fileURLToPath } from 'node:url';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';

/** Paths resolve from this file, not the working directory, so synth works from any folder. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const LOCK_FILE = `${REPO_ROOT}package-lock.json`;

/**
 * How every function is bundled: one ESM file built by the local esbuild (never Docker), with every
 * dependency inside, the AWS SDK included: the SDK version we test is the one that runs.
 */
export const LAMBDA_BUNDLING: nodejs.BundlingOptions = {
  format: nodejs.OutputFormat.ESM,
  target: 'node24',
  minify: true,
  // Error classes set `name` from the class; minified names would reach logs and callers.
  keepNames: true,
  sourceMap: true,
  sourcesContent: false,
  mainFields: ['module', 'main'],
  externalModules: [],
  forceDockerBundling: false,
  // CommonJS dependencies inside an ESM bundle still call require().
  banner: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
};
