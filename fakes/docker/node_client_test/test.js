// Drives faultline's Docker Engine fake through dockerode, unchanged, as a Node user would.
// Environment: DOCKER_SOCKET (the fake's unix socket). Prints one line per check and exits 1 on
// the first failure.
"use strict";
const assert = require("node:assert/strict");
const Docker = require("dockerode");

const docker = new Docker({ socketPath: process.env.DOCKER_SOCKET });

async function expectStatus(promise, status, messagePart) {
  try {
    await promise;
  } catch (err) {
    assert.equal(err.statusCode, status, `status of ${err.message}`);
    if (messagePart) assert.match(err.json ? err.json.message : err.message, messagePart);
    return;
  }
  assert.fail(`expected HTTP ${status}`);
}

async function main() {
  const ping = await docker.ping();
  assert.equal(ping.toString(), "OK");
  console.log("ping ok");

  const version = await docker.version();
  assert.equal(version.ApiVersion, "1.47");
  console.log("version ok");

  const container = await docker.createContainer({
    name: "web",
    Image: "nginx:1.25",
    Labels: { tier: "front" },
    HostConfig: { RestartPolicy: { Name: "on-failure", MaximumRetryCount: 2 } },
  });
  await container.start();
  let info = await container.inspect();
  assert.equal(info.State.Status, "running");
  assert.equal(info.Name, "/web");
  console.log("create/start/inspect ok");

  await expectStatus(container.unpause(), 409, /is not paused/);
  await container.pause();
  assert.equal((await container.inspect()).State.Status, "paused");
  await container.unpause();
  console.log("pause/unpause ok");

  const listed = await docker.listContainers({ filters: { label: ["tier=front"] } });
  assert.equal(listed.length, 1);
  assert.deepEqual(listed[0].Names, ["/web"]);
  console.log("list ok");

  const network = await docker.createNetwork({ Name: "backend" });
  await network.connect({ Container: "web" });
  info = await container.inspect();
  assert.ok(info.NetworkSettings.Networks.backend, "connected to backend");
  await network.disconnect({ Container: "web" });
  info = await container.inspect();
  assert.equal(info.NetworkSettings.Networks.backend, undefined);
  await network.remove();
  console.log("network connect/disconnect ok");

  await container.stop();
  info = await container.inspect();
  assert.equal(info.State.Status, "exited");
  await expectStatus(container.stop(), 304);
  console.log("stop ok");

  const until = Math.floor(Date.now() / 1000) + 1;
  const stream = await docker.getEvents({ since: 0, until, filters: { type: ["container"] } });
  const actions = await new Promise((resolve, reject) => {
    let text = "";
    stream.on("data", (d) => (text += d.toString()));
    stream.on("end", () =>
      resolve(text.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l).Action)));
    stream.on("error", reject);
  });
  assert.deepEqual(actions, ["create", "start", "pause", "unpause", "kill", "die", "stop"]);
  console.log("events ok");

  await container.remove();
  await expectStatus(docker.getContainer("web").inspect(), 404, /No such container: web/);
  console.log("remove ok");
  console.log("all ok");
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
