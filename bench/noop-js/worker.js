// The JS no-op: the baseline the JS peer (bench/peer) is compared with, as
// bench/noop is sass-edge's. Served as it is; no build step.
export default { fetch() { return new Response('ok'); } };
