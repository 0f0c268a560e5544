// IPv4 and IPv6 addresses and CIDR ranges, for the peer's IP whitelist.
// Addresses are read into a family and a BigInt; an IPv4-mapped IPv6 address
// (::ffff:1.2.3.4) counts as its IPv4 address, as in sass-edge.

function parseV4(text) {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let n = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255 || (p.length > 1 && p[0] === '0')) return null;
    n = (n << 8n) | BigInt(p);
  }
  return n;
}

function parseV6(text) {
  let head = text;
  let tail = [];
  // A dotted IPv4 tail (::ffff:1.2.3.4) is the last two groups.
  if (text.includes('.')) {
    const colon = text.lastIndexOf(':');
    const v4 = parseV4(text.slice(colon + 1));
    if (v4 === null) return null;
    tail = [Number(v4 >> 16n), Number(v4 & 0xffffn)];
    head = text.slice(0, colon + 1).endsWith('::') ? text.slice(0, colon + 1) : text.slice(0, colon);
  }
  const halves = head.split('::');
  if (halves.length > 2) return null;
  const groups = (s) => (s === '' ? [] : s.split(':'));
  const left = groups(halves[0]);
  const right = halves.length === 2 ? groups(halves[1]) : [];
  const given = left.length + right.length + tail.length;
  if (halves.length === 1 ? given !== 8 : given > 7) return null;
  const all = [...left, ...Array(8 - given).fill('0'), ...right];
  let n = 0n;
  for (const g of all) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    n = (n << 16n) | BigInt(parseInt(g, 16));
  }
  for (const g of tail) n = (n << 16n) | BigInt(g);
  return n;
}

/** `{ v6, n }` for an address, or null. */
export function parseIp(text) {
  if (typeof text !== 'string') return null;
  const s = text.trim();
  if (s.includes(':')) {
    const n = parseV6(s);
    if (n === null) return null;
    if (n >> 32n === 0xffffn) return { v6: false, n: n & 0xffffffffn };
    return { v6: true, n };
  }
  const n = parseV4(s);
  return n === null ? null : { v6: false, n };
}

/** Whether `ip` (from parseIp) is in `range` ("10.0.0.0/8", "2001:db8::/32" or one address). */
export function inRange(ip, range) {
  const [addr, prefix] = range.split('/');
  let net = parseIp(addr);
  if (!net) return false;
  let len = prefix === undefined ? (net.v6 ? 128 : 32) : Number(prefix);
  // A range written as IPv4-mapped IPv6 (::ffff:10.0.0.0/104) is an IPv4 range.
  if (addr.includes(':') && !net.v6) len -= 96;
  const bits = net.v6 ? 128 : 32;
  if (!Number.isInteger(len) || len < 0 || len > bits || net.v6 !== ip.v6) return false;
  const shift = BigInt(bits - len);
  return ip.n >> shift === net.n >> shift;
}

/** The name a client is counted under: its IPv4 address, or its IPv6 /64. */
export function countingName(ip) {
  if (!ip) return 'unknown';
  if (!ip.v6) return [24n, 16n, 8n, 0n].map((s) => String((ip.n >> s) & 0xffn)).join('.');
  const groups = [112n, 96n, 80n, 64n].map((s) => ((ip.n >> s) & 0xffffn).toString(16));
  return `${groups.join(':')}::/64`;
}
