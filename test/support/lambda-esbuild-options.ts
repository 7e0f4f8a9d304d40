import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type { BuildOptions } from 'esbuild';

/** The `--alias` arguments of CDK bundling options as esbuild's `alias` map. */
export function aliasesOf(bundling: nodejs.BundlingOptions): Record<string, string> {
  const args = [bundling.esbuildArgs?.['--alias'] ?? []].flat() as string[];
  return Object.fromEntries(args.map((arg) => arg.split('=') as [string, string]));
}

/**
 * esbuild options equal to what CDK's NodejsFunction runs for these bundling options (format,
 * target, main fields, minify, names, banner, aliases, defines), so a test bundles exactly what
 * ships: a test that copied a subset once missed an alias that broke the deployed bundle.
 */
export function esbuildOptionsOf(bundling: nodejs.BundlingOptions): BuildOptions {
  return {
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: bundling.target,
    mainFields: bundling.mainFields,
    minify: bundling.minify,
    keepNames: bundling.keepNames,
    banner: { js: bundling.banner ?? '' },
    alias: aliasesOf(bundling),
    define: { ...bundling.define },
    external: [...(bundling.externalModules ?? [])],
    logLevel: 'silent',
  };
}
