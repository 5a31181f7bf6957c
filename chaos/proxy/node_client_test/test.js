// Drives faultline's proxy through toxiproxy-node-client, unchanged, as a Toxiproxy user would.
// Environment: TOXIPROXY_URL (the API), ECHO_PORT (an echo server on 127.0.0.1 to proxy to).
// Prints one line per check and exits 1 on the first failure.
"use strict";
const assert = require("node:assert/strict");
const net = require("node:net");
const { Toxiproxy, ToxiproxyError } = require("toxiproxy-node-client");

const url = process.env.TOXIPROXY_URL;
const upstream = `127.0.0.1:${process.env.ECHO_PORT}`;

// Sends `text` through host:port and resolves with the echo and how long it took (ms).
function roundTrip(listen, text) {
  const [host, port] = [listen.slice(0, listen.lastIndexOf(":")), listen.slice(listen.lastIndexOf(":") + 1)];
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const socket = net.connect(Number(port), host, () => socket.write(text));
    let got = "";
    socket.setTimeout(20000, () => reject(new Error("no echo within the bound")));
    socket.on("data", (d) => {
      got += d.toString();
      if (got.length >= text.length) {
        socket.destroy();
        resolve({ got, ms: Number(process.hrtime.bigint() - started) / 1e6 });
      }
    });
    socket.on("error", reject);
  });
}

async function main() {
  const toxiproxy = new Toxiproxy(url);
  const version = await toxiproxy.getVersion();
  assert.match(version, /version/);
  console.log("ok version", version.trim());

  const proxy = await toxiproxy.createProxy({ name: "echo", listen: "127.0.0.1:0", upstream });
  assert.equal(proxy.name, "echo");
  assert.equal(proxy.enabled, true);
  assert.notEqual(proxy.listen, "127.0.0.1:0");
  console.log("ok createProxy", proxy.listen);
  assert.equal((await roundTrip(proxy.listen, "hello")).got, "hello");
  console.log("ok data flows");

  const toxic = await proxy.addToxic({
    name: "slow", type: "latency", stream: "downstream", toxicity: 1,
    attributes: { latency: 150, jitter: 0 },
  });
  assert.equal(toxic.name, "slow");
  assert.deepEqual(toxic.attributes, { latency: 150, jitter: 0 });
  const slow = await roundTrip(proxy.listen, "slow");
  assert.equal(slow.got, "slow");
  assert.ok(slow.ms >= 150, `reply after ${slow.ms} ms, before the 150 ms latency`);
  console.log("ok addToxic latency");

  const fetched = await proxy.getToxic("slow");
  assert.equal(fetched.type, "latency");
  const updated = await fetched.update({ attributes: { latency: 10, jitter: 0 }, toxicity: 1 });
  assert.equal(updated.attributes.latency, 10);
  console.log("ok getToxic/update");
  await updated.remove();
  await assert.rejects(proxy.getToxic("slow"), ToxiproxyError);
  console.log("ok toxic remove");

  const all = await toxiproxy.getAll();
  assert.deepEqual(Object.keys(all), ["echo"]);
  const again = await toxiproxy.get("echo");
  assert.equal(again.listen, proxy.listen);
  console.log("ok getAll/get");

  const down = await again.update({ ...again.toJson(), enabled: false });
  assert.equal(down.enabled, false);
  await assert.rejects(roundTrip(proxy.listen, "x"), /ECONNREFUSED/);
  console.log("ok disable refuses");
  await toxiproxy.reset();
  assert.equal((await toxiproxy.get("echo")).enabled, true);
  assert.equal((await roundTrip(proxy.listen, "back")).got, "back");
  console.log("ok reset");

  await assert.rejects(
    toxiproxy.createProxy({ name: "echo", listen: "127.0.0.1:0", upstream }),
    (e) => e instanceof ToxiproxyError && /409/.test(e.message));
  await assert.rejects(proxy.addToxic({ name: "bad", type: "nonsense", stream: "downstream", toxicity: 1, attributes: {} }),
    (e) => e instanceof ToxiproxyError && /400/.test(e.message));
  console.log("ok errors");

  const populated = await toxiproxy.populate([
    { name: "p1", listen: "127.0.0.1:0", upstream, enabled: true },
    { name: "p2", listen: "127.0.0.1:0", upstream, enabled: false },
  ]);
  assert.deepEqual(Object.keys(populated).sort(), ["p1", "p2"]);
  assert.equal((await roundTrip(populated.p1.listen, "pop")).got, "pop");
  console.log("ok populate");

  for (const p of Object.values(await toxiproxy.getAll())) await p.remove();
  assert.deepEqual(Object.keys(await toxiproxy.getAll()), []);
  console.log("ok remove");
}

main().then(() => console.log("all ok"), (e) => {
  console.error("FAILED:", e && e.stack ? e.stack : e);
  process.exit(1);
});
