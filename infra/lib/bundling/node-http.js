// node:http through require(), not an ESM import: importing a built-in as ESM makes Node build a
// facade with every export, and node:http's lazy WebSocket/MessageEvent getters then load Node's own
// undici (about 30 ms of each cold start, measured by `npm run bench`). See lambda-defaults.ts.
import { createRequire as requireFromHere } from 'node:module';

const builtin = requireFromHere(import.meta.url)('node:http');

export default builtin;
export const { Agent, request, get, globalAgent, STATUS_CODES } = builtin;
