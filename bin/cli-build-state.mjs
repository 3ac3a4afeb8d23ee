// Whether dist-cli/ (npm run build:cli) is there and as new as what it was built from: the sources
// it bundles (dist-cli/inputs.json), package-lock.json (the bundled dependencies' versions) and
// the build script. Shared by bin/merge-studio.js (which runs the sources when the build is stale)
// and bin/build-cli.mjs (which rebuilds only then). A few hundred stat calls: about a millisecond.
import { existsSync, readFileSync, statSync } from 'node:fs';

export const root = new URL('../', import.meta.url);
export const builtMain = new URL('dist-cli/main.mjs', root);

/** A clone (the sources are here), not an installed package. */
export const inClone = () => existsSync(new URL('src/cli/main.ts', root));

/** Why dist-cli/ cannot be run as it is, or undefined when it is current. */
export function staleBuild() {
  if (!existsSync(builtMain)) return 'no dist-cli/ yet';
  if (!inClone()) return undefined; // an installed package
  const builtAt = statSync(builtMain).mtimeMs;
  let inputs;
  try {
    inputs = JSON.parse(readFileSync(new URL('dist-cli/inputs.json', root), 'utf8'));
  } catch {
    return 'dist-cli/ is incomplete';
  }
  const newer = [...inputs, 'package-lock.json', 'bin/build-cli.mjs'].find(
    (p) => (statSync(new URL(p, root), { throwIfNoEntry: false })?.mtimeMs ?? Infinity) > builtAt,
  );
  return newer && `${newer} changed since dist-cli/ was built`;
}
