/**
 * Rotation requests: rotates one managed secret now, asked by a custom EventBridge event
 * ("Secret Rotation Requested") on the request bus; never an emergency (the emergency URL has its
 * own function, functions/emergency-request). Wiring only; the logic is in
 * shared/requests/handle-rotation-request.ts.
 */

import { handleRequestedEvent } from '../../shared/requests/handle-rotation-request';
import { requestFunctionHandler } from '../../shared/requests/request-function';

export const handler = requestFunctionHandler(handleRequestedEvent, 'rotation request refused or failed');
