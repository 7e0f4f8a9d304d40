// node:http for a bundle, taken with process.getBuiltinModule, which esbuild leaves alone: an ESM import of a
// built-in makes Node build a facade with every export, and node:http's lazy WebSocket/MessageEvent
// getters then load Node's own undici (about 30 ms of each cold start). CommonJS, so that both
// `import { Agent } from 'node:http'` and `require('node:http').maxHeaderSize` see the real module.
// See BUILTIN_ALIASES in infra/lib/lambda-defaults.ts.
module.exports = process.getBuiltinModule('node:http');
