/**
 * Emergency rotations: rotates one managed secret now, asked through the IAM-authorized function
 * URL (AuthType AWS_IAM), the one entry whose caller Lambda itself authenticates; the only function
 * that honours emergency and retire-previous. Wiring only; the logic is in
 * shared/requests/handle-rotation-request.ts.
 */

import { handleFunctionUrl } from '../../shared/requests/handle-rotation-request';
import { requestFunctionHandler } from '../../shared/requests/request-function';

export const handler = requestFunctionHandler(handleFunctionUrl, 'emergency request refused or failed');
