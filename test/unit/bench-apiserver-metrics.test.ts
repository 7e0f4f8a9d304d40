import { describe, expect, it } from 'vitest';
import { delta, meansPerRequest, orchestratorRequests } from '../../bench/apiserver-metrics';

// Lines as kube-apiserver v1.36.1's /metrics writes them (taken from the local cluster's, with the
// flow schemas renamed to bench:workflow's), plus other flow schemas' and a refused request's.
const METRICS = `# HELP apiserver_flowcontrol_dispatched_requests_total [BETA] Number of requests executed by API Priority and Fairness subsystem
# TYPE apiserver_flowcontrol_dispatched_requests_total counter
apiserver_flowcontrol_dispatched_requests_total{flow_schema="bench-rotator-patch",priority_level="global-default"} 600
apiserver_flowcontrol_dispatched_requests_total{flow_schema="bench-rotator-list",priority_level="global-default"} 400
apiserver_flowcontrol_dispatched_requests_total{flow_schema="global-default",priority_level="global-default"} 6330
apiserver_flowcontrol_request_execution_seconds_bucket{flow_schema="bench-rotator-patch",priority_level="global-default",type="regular",le="0.005"} 100
apiserver_flowcontrol_request_execution_seconds_sum{flow_schema="bench-rotator-patch",priority_level="global-default",type="regular"} 18.6
apiserver_flowcontrol_request_execution_seconds_count{flow_schema="bench-rotator-patch",priority_level="global-default",type="regular"} 600
apiserver_flowcontrol_request_execution_seconds_sum{flow_schema="bench-rotator-list",priority_level="global-default",type="regular"} 2
apiserver_flowcontrol_request_execution_seconds_sum{flow_schema="global-default",priority_level="global-default",type="regular"} 459.99934198800014
apiserver_flowcontrol_request_wait_duration_seconds_sum{execute="true",flow_schema="bench-rotator-patch",priority_level="global-default"} 0.06
apiserver_flowcontrol_request_wait_duration_seconds_sum{execute="false",flow_schema="bench-rotator-patch",priority_level="global-default"} 50
apiserver_flowcontrol_request_wait_duration_seconds_sum{execute="true",flow_schema="global-default",priority_level="global-default"} 8.624420341000018
`;

describe('orchestratorRequests (bench:workflow’s server-side figures)', () => {
  it('reads our flow schemas’ counts, execution and queued seconds, and nothing of the others', () => {
    expect(orchestratorRequests(METRICS)).toEqual({
      counts: { patch: 600, list: 400 },
      seconds: { 'patch executing': 18.6, 'list executing': 2, 'patch queued': 0.06 },
    });
  });

  it('prints each verb’s mean per request, n/a for a figure the server did not give', () => {
    expect(meansPerRequest(orchestratorRequests(METRICS))).toBe(
      'patch 31.0 ms executing + 0.1 ms queued; list 5.0 ms executing + n/a queued',
    );
  });

  it('subtracts the figures before a run from those after it', () => {
    const before = orchestratorRequests(METRICS);
    const after = orchestratorRequests(METRICS.replace('} 600\n', '} 625\n'));
    expect(delta(after.counts, before.counts)).toEqual({ patch: 25, list: 0 });
  });
});
