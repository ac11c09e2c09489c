import { defineConfig } from 'tsup';
import { buildDashboard } from './scripts/build-dashboard.js';

const libraryEntries = {
  index: 'src/index.ts',
  node: 'src/adapters/node.ts',
  express: 'src/adapters/express.ts',
  fastify: 'src/adapters/fastify.ts',
};

export default defineConfig({
  entry: {
    ...libraryEntries,
    // The `llmlb` executable (bin). Its shebang is kept and the file made executable.
    cli: 'src/cli.ts',
  },
  external: ['express', 'fastify', 'pg'],
  format: ['esm', 'cjs'],
  // Types for the library entries only: the CLI has no API.
  dts: { entry: libraryEntries },
  // The CLI reads `import.meta.url`; shims give the CommonJS build an equivalent.
  shims: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  splitting: true,
  treeshake: true,
  // The web dashboard (Preact, uPlot) is bundled into dist/dashboard/ after the library.
  onSuccess: buildDashboard,
});
