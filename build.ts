// `npm run build` (and `npm ci`, through `prepare`): the installed command as an esbuild bundle in
// dist/src. A one-shot `dmarc-bot ask` loaded about a hundred files as separate modules, and zod
// alone as files costs about twice its bundled import; one bundle with code splitting loads a few
// files, each command's own chunk only when it runs. Type checking stays with tsc (npm run build
// runs it first); esbuild only strips the types.
import { chmodSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions, type Plugin } from 'esbuild';

const root = dirname(fileURLToPath(import.meta.url));

/**
 * Packages bundled into the command: pure JavaScript on the path of a one-shot command (a CommonJS
 * package imported as a file costs a scan of its source for its exports), and keyv with all its
 * store adapters, so that they share one copy of it. Every other package stays a plain import from
 * node_modules, loaded when used: native add-ons (sqlite3, @napi-rs/canvas), packages that find
 * their data files from their own location (the fonts, the ASN tables), and the chat and mail
 * libraries that only `start` and `ingest` load.
 */
const BUNDLED = new Set([
  'zod',
  'dotenv',
  'ipaddr.js',
  'keyv',
  '@keyv/serialize',
  '@keyv/sqlite',
  '@keyv/postgres',
  '@keyv/redis',
]);

const packageName = (specifier: string): string => specifier.split('/', specifier.startsWith('@') ? 2 : 1).join('/');

const externalUnlessBundled: Plugin = {
  name: 'external-unless-bundled',
  setup(plugins) {
    plugins.onResolve({ filter: /^[^./]/ }, ({ path }) =>
      path.startsWith('node:') || BUNDLED.has(packageName(path)) ? undefined : { path, external: true },
    );
  },
};

/**
 * node:crypto for dotenv, loaded when first read: dotenv requires it at load for its encrypted
 * files only, and its load costs every command about 10 ms.
 */
const lazyCryptoForDotenv: Plugin = {
  name: 'lazy-crypto-for-dotenv',
  setup(plugins) {
    plugins.onResolve({ filter: /^(node:)?crypto$/ }, ({ importer }) =>
      /[\\/]node_modules[\\/]dotenv[\\/]/.test(importer) ? { path: 'crypto', namespace: 'lazy-crypto' } : undefined,
    );
    plugins.onLoad({ filter: /.*/, namespace: 'lazy-crypto' }, () => ({
      contents: "module.exports = new Proxy({}, { get: (_, name) => process.getBuiltinModule('node:crypto')[name] });",
      loader: 'js',
    }));
  },
};

/**
 * CommonJS packages that stay in node_modules, loaded with `require` instead of an ES import: Node
 * imports a CommonJS file by scanning its source for its exports and wrapping it in a module, which
 * made loading sqlite3 (every command that opens the default store) about twice as slow (11 ms of
 * CPU against 5). Its default export is its module.exports either way.
 */
const REQUIRED = new Set(['sqlite3']);

const requireCommonJs: Plugin = {
  name: 'require-common-js',
  setup(plugins) {
    plugins.onResolve({ filter: /^[^./]/ }, ({ path, namespace }) => {
      if (!REQUIRED.has(path)) return undefined;
      // the module below requires the package itself: that one stays external
      return namespace === 'require-common-js' ? { path, external: true } : { path, namespace: 'require-common-js' };
    });
    plugins.onLoad({ filter: /.*/, namespace: 'require-common-js' }, ({ path }) => ({
      contents: `export default require(${JSON.stringify(path)});`,
      loader: 'js',
    }));
  },
};

/**
 * The options of the command's bundle; `entryPoints` and `outdir` are the caller's. All output files
 * sit in one folder: the reader finds its worker (worker.js) beside the module that starts it, and
 * the version is read from the package.json above it.
 */
export const bundleOptions: BuildOptions = {
  absWorkingDir: root,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  splitting: true,
  entryNames: '[name]',
  chunkNames: '[name]-[hash]',
  sourcemap: true,
  plugins: [lazyCryptoForDotenv, requireCommonJs, externalUnlessBundled],
  // bundled CommonJS packages require Node's built-in modules: an ES module has no `require` of its own
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  logLevel: 'warning',
};

/** The installed command and the reader's worker thread. */
export const commandEntryPoints = { bin: 'src/bin.ts', worker: 'src/reader/worker.ts' };

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const outdir = join(root, 'dist/src');
  rmSync(join(root, 'dist'), { recursive: true, force: true });
  await build({ ...bundleOptions, entryPoints: commandEntryPoints, outdir });
  chmodSync(join(outdir, 'bin.js'), 0o755);
}
