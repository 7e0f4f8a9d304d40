// What @kubernetes/client-node imports from undici (Agent, ProxyAgent, fetch), from undici's own
// files. The step's bundle aliases `undici` to this file (kubernetes-client.ts): undici's index.js
// requires every dispatcher, the mock agents, the HTTP cache, WebSocket and EventSource, about
// 370 KiB that no step uses. Being ESM, a name client-node imports and this file lacks fails the
// build. The relative paths are the undici that client-node resolves (hoisted; see package-lock).
import api from '../../../node_modules/undici/lib/api/index.js';
import Agent from '../../../node_modules/undici/lib/dispatcher/agent.js';
import Dispatcher from '../../../node_modules/undici/lib/dispatcher/dispatcher.js';
import ProxyAgent from '../../../node_modules/undici/lib/dispatcher/proxy-agent.js';
import fetchApi from '../../../node_modules/undici/lib/web/fetch/index.js';

// As undici's index.js does: request(), connect() and the rest on every dispatcher (a ProxyAgent
// opens its tunnel with connect()).
Object.assign(Dispatcher.prototype, api);

export { Agent, ProxyAgent };
export const fetch = fetchApi.fetch;
