import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { App } from 'aws-cdk-lib';

export interface BundledFunction {
  readonly logicalId: string;
  /** Folder of the function's asset in the cloud assembly (holds index.mjs). */
  readonly directory: string;
  readonly handler: string;
  /**
   * The function's environment variables that are literal strings. Values CloudFormation resolves at
   * deploy time (a table name, a state machine ARN) are left out; local runs supply their own.
   */
  readonly environment: Record<string, string>;
}

interface SynthesizedResource {
  readonly Type: string;
  readonly Properties: {
    readonly Code: { readonly S3Key: string };
    readonly Handler: string;
    readonly Environment?: { readonly Variables?: Record<string, unknown> };
  };
}

/** Synthesizes the app and finds each Lambda function's bundled asset in the cloud assembly. */
export function bundledFunctions(app: App, stackName: string): BundledFunction[] {
  const assembly = app.synth();
  const stack = assembly.getStackByName(stackName);
  const manifest = JSON.parse(readFileSync(join(assembly.directory, `${stack.id}.assets.json`), 'utf8'));
  const resources = stack.template.Resources as Record<string, SynthesizedResource>;
  return Object.entries(resources)
    .filter(([, resource]) => resource.Type === 'AWS::Lambda::Function')
    .map(([logicalId, resource]) => {
      const hash = String(resource.Properties.Code.S3Key).replace(/\.zip$/, '');
      const source = manifest.files[hash]?.source?.path;
      if (!source) throw new Error(`No asset for ${logicalId} in the cloud assembly`);
      return {
        logicalId,
        directory: join(assembly.directory, source),
        handler: resource.Properties.Handler,
        environment: literalVariables(resource.Properties.Environment?.Variables ?? {}),
      };
    });
}

function literalVariables(variables: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(variables).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
}
