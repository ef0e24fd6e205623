// Regenerates whatwg_hosts.json: what a WHATWG URL parser (Node's `URL`, the same algorithm as
// browsers, the Rust `url` crate and reqwest) reads as the host of tricky endpoint strings.
// Run: node crates/egress-policy/tests/data/whatwg_hosts.mjs > crates/egress-policy/tests/data/whatwg_hosts.json
// The cases are drawn from a fixed-seed generator, so the output is the same on every run.

const schemes = ["http://", "HTTP://", "https://", "hTtPs://", "http:", "http:/", "http:\\\\",
  "http:/\\/\\", "http:///", "file://", "file:", "file:///"];
const userinfos = ["", "user@", "user:pw@", "127.0.0.1@", "localhost@", "localhost:4317@",
  "a@b@", "[::1]@", "evil.com@", "@", "%40@", "x:@"];
const hosts = ["localhost", "LOCALHOST", "LocalHost", "localhost.", "a.localhost", "127.0.0.1",
  "127.255.0.9", "127.1", "0x7f.1", "0X7F.0.0.1", "2130706433", "0177.0.0.1", "127.0.0.1.",
  "127.000.000.001", "[::1]", "[0:0:0:0:0:0:0:1]", "[::0.0.0.1]", "[::ffff:127.0.0.1]",
  "[::FFFF:7f00:1]", "[::127.0.0.1]", "[64:ff9b::127.0.0.1]", "[fe80::1]", "[fe80::1%25eth0]",
  "[fd00::1]", "[2001:db8::1]", "[::]", "[::1", "::1", "evil.com", "EVIL.com", "evil.com.",
  "10.0.0.1", "172.16.5.4", "192.168.0.1", "100.64.0.1", "169.254.169.254", "0xa9.254.169.254",
  "8.8.8.8", "%6cocalhost", "local%68ost", "127.0.0.%31", "%31%32%37.0.0.1", "a%2Fb", "a%zzb",
  "\uff4c\uff4f\uff43\uff41\uff4c\uff48\uff4f\uff53\uff54", "local\u00adhost", "xn--localhost-",
  "0", "0x", "0.0.0.0", "1.2.3.4.5", "foo.123", "08.0.0.1", "256.0.0.1", "4294967296",
  "127.0.0.1.evil.com", "evil.com.127.0.0.1", "a!b", "a b", "a<b", "", "_collector._tcp"];
const ports = ["", ":", ":4317", ":04317", ":0x10", ":65535", ":65536", ":99999999999", "::80",
  ":4317@evil.com"];
const suffixes = ["", "/", "/v1/traces", "#@127.0.0.1", "\\@127.0.0.1", "?@127.0.0.1",
  "@127.0.0.1", "#@evil.com", "\\@evil.com", "/@evil.com", "\t", "\n.evil.com", "?q=1#f"];

// mulberry32: a small fixed-seed PRNG.
let seed = 0x5eed;
function random() {
  seed |= 0; seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (list) => list[Math.floor(random() * list.length)];

const inputs = new Set();
for (const scheme of ["http://", "https://", "file://"]) {
  for (const host of hosts) inputs.add(scheme + host + (scheme === "file://" ? "/x" : ":4317"));
}
while (inputs.size < 2500) {
  inputs.add(pick(schemes) + pick(userinfos) + pick(hosts) + pick(ports) + pick(suffixes));
}

const cases = [];
for (const input of inputs) {
  let hostname = null;
  let port = null;
  try {
    const url = new URL(input);
    hostname = url.hostname;
    port = url.port;
  } catch {
    // a parse failure: no host
  }
  cases.push({ input, hostname, port });
}
// One case per line, so a regenerated file diffs readably.
process.stdout.write(`{"generator": ${JSON.stringify(`node ${process.version} URL`)}, "cases": [\n`);
process.stdout.write(cases.map((c) => JSON.stringify(c)).join(",\n"));
process.stdout.write("\n]}\n");
