/** Where the benchmark lives and where it writes its scratch files (gitignored). */
import path from 'node:path';

export const REPO_DIR = path.resolve(import.meta.dirname, '..');
/** Bundles, probes' empty module and the parts' result files: inside the repository so that bundles resolve its node_modules. */
export const OUT_DIR = path.join(REPO_DIR, 'bench', '.out');
