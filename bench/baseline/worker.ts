/**
 * The baseline: a hello-world worker, built and served exactly like the gateway. Its throughput
 * under the bench harness is the runtime's ceiling on this machine; every gateway figure is read
 * as a ratio to it.
 */
export default {
  fetch(): Response {
    return new Response('hello world\n', { headers: { 'content-type': 'text/plain' } });
  },
};
