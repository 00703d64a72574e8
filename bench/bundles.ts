/**
 * Builds every function's bundle as `sls package` does (serverless-esbuild with the options of
 * serverless.yml's `custom.esbuild`), in two variants: `@aws-sdk/*` left to the Lambda runtime
 * and bundled into the file (as deployed). The bundles land in bench/.out/<variant>/, inside
 * the repository, so that an external `@aws-sdk/*` import resolves from its node_modules.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import path from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { readServerlessDefinition } from '../local/resources';
import { readFunctionHandlers } from '../local/serverless-functions';

import { OUT_DIR, REPO_DIR } from './paths';

/** Lambda's unzipped bundle budget of this project (test/infra/serverless-package.test.ts). */
export const BUNDLE_BUDGET_BYTES = 150 * 1024;

export type SdkVariant = 'external' | 'bundled';
export const SDK_VARIANTS: readonly SdkVariant[] = ['external', 'bundled'];

// serverless-esbuild's own options, removed before the rest goes to esbuild (its bundle.js does the same).
const PLUGIN_ONLY_OPTIONS = [
  'concurrency', 'zipConcurrency', 'exclude', 'nativeZip', 'packager', 'packagePath', 'watch',
  'keepOutputDirectory', 'packagerOptions', 'installExtraArgs', 'outputFileExtension',
  'outputBuildFolder', 'outputWorkFolder', 'nodeExternals', 'skipBuild', 'skipRebuild',
  'skipBuildExcludeFns', 'stripEntryResolveExtensions', 'disposeContext',
];

export interface BundleResult {
  functionName: string;
  variant: SdkVariant;
  /** The built .mjs, absolute. */
  file: string;
  minifiedBytes: number;
  /** Deflated (what the zip holds, roughly). */
  deflatedBytes: number;
  /** Bytes of the output by npm package (or "(project)" for our own code), largest first. */
  byPackage: Array<{ name: string; bytes: number }>;
  /** Modules the bundle leaves to the runtime (`import` of an external), e.g. `@aws-sdk/client-ssm`. */
  externalImports: string[];
}

/** What the runtime-SDK variant leaves out of the bundle: the SDK v3 that nodejs22.x ships. */
const RUNTIME_PROVIDED = ['@aws-sdk/*'];

/** The esbuild options serverless-esbuild would use for this service, with `external` per variant. */
export function esbuildOptionsFor(variant: SdkVariant): { options: BuildOptions; excluded: string[] } {
  const { custom } = readServerlessDefinition();
  const configured = { ...(custom.esbuild as Record<string, unknown>) };
  const excluded = RUNTIME_PROVIDED;
  const outputFileExtension = (configured.outputFileExtension as string | undefined) ?? '.js';
  for (const option of PLUGIN_ONLY_OPTIONS) delete configured[option];
  const options: BuildOptions = {
    ...(configured as BuildOptions),
    external: variant === 'external' ? excluded : [],
    outExtension: { '.js': outputFileExtension },
    metafile: true,
    logLevel: 'silent',
  };
  return { options, excluded };
}

function packageOf(inputPath: string): string {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(inputPath.replaceAll('\\', '/'));
  return match?.[1] ?? '(project)';
}

function outputOf(metafile: Metafile, outputFile: string): Metafile['outputs'][string] | undefined {
  return Object.entries(metafile.outputs).find(([file]) => path.resolve(REPO_DIR, file) === outputFile)?.[1];
}

function bytesByPackage(metafile: Metafile, outputFile: string): Array<{ name: string; bytes: number }> {
  const output = outputOf(metafile, outputFile);
  const totals = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    const name = packageOf(input);
    totals.set(name, (totals.get(name) ?? 0) + bytesInOutput);
  }
  return [...totals].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes);
}

/** Builds all functions in both variants; returns one result per function and variant. */
export async function buildBundles(): Promise<BundleResult[]> {
  const handlers = readFunctionHandlers();
  const results: BundleResult[] = [];
  for (const variant of SDK_VARIANTS) {
    const outdir = path.join(OUT_DIR, variant);
    rmSync(outdir, { recursive: true, force: true });
    mkdirSync(outdir, { recursive: true });
    const { options } = esbuildOptionsFor(variant);
    for (const [functionName, handler] of Object.entries(handlers)) {
      const entry = path.join(REPO_DIR, handler.file);
      const result = await build({ ...options, absWorkingDir: REPO_DIR, entryPoints: [entry], outdir });
      const extension = (options.outExtension as Record<string, string>)['.js'] ?? '.js';
      const file = path.join(outdir, `${path.basename(handler.file, path.extname(handler.file))}${extension}`);
      const content = readFileSync(file);
      results.push({
        functionName,
        variant,
        file,
        minifiedBytes: content.length,
        deflatedBytes: deflateRawSync(content, { level: 9 }).length,
        byPackage: bytesByPackage(result.metafile as Metafile, file),
        externalImports: [
          ...new Set((outputOf(result.metafile as Metafile, file)?.imports ?? []).filter((entry) => entry.external).map((entry) => entry.path)),
        ].filter((specifier) => !isBuiltin(specifier)),
      });
    }
  }
  return results;
}
