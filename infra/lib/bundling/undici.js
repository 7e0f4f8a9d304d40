// What the propagation step takes from undici: its Agent, with the request() method undici's
// index.js puts on every dispatcher (shared/kubernetes/kubernetes-transport.ts calls it). The step's
// bundle aliases `undici` to this file (kubernetes-client.ts): undici's index.js requires every
// dispatcher, fetch, the mock agents, the HTTP cache, WebSocket and EventSource, about 370 KiB that
// no step uses. Being ESM, a name imported from `undici` that this file lacks fails the build.
// The relative paths are the undici package.json names, hoisted: the one our sources and
// @kubernetes/client-node resolve (test/unit/infra/kubernetes-client-bundling.test.ts).

import request from '../../../node_modules/undici/lib/api/api-request.js';
import Agent from '../../../node_modules/undici/lib/dispatcher/agent.js';
import Dispatcher from '../../../node_modules/undici/lib/dispatcher/dispatcher.js';

Object.assign(Dispatcher.prototype, { request });

export { Agent };
