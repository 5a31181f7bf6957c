// LocalImage: which container images the Docker fake can run as a real program on this machine
// (its process backing, see process_backing.h), and how a container of one becomes a command line.
//
// The table (README.md "Process backing"): prom/prometheus -> prometheus, prom/alertmanager ->
// prometheus-alertmanager, prom/node-exporter -> prometheus-node-exporter (the Debian packages),
// busybox / alpine / debian / ubuntu -> the container's command run as a local command (a single
// string with a space: `sh -c`), python:* -> python3, node:* -> node. An image maps only when its
// program is found in PATH; otherwise it is "not mapped" and stays a state machine.
//
// Thread safety: pure functions and values.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace faultline::fakes::docker {

// A mount as the process sees it: arguments naming `target` (or a path under it) name `source`.
struct PathMapping {
  std::string target;            // "/prometheus"
  std::filesystem::path source;  // the host directory or file
};

struct LocalImage {
  std::string image{};                    // as given at create
  std::vector<std::string> entrypoint{};  // the image's ENTRYPOINT, program resolved
  std::vector<std::string> cmd{};         // the image's CMD (used when the container sets none)
  // A server that listens where a flag says: `listen_flag=127.0.0.1:<host port>` replaces any
  // such flag, and `container_port`/tcp is published on that host port.
  int container_port = 0;
  std::string listen_flag{};
  std::vector<std::string> extra_args{};  // always appended (e.g. alertmanager's cluster off)
  // The image's data directory (e.g. /prometheus): an absolute path in the arguments that starts
  // with it means the container's own directory for it unless a volume is mounted there.
  std::string data_dir{};
  // Paths of the image that are elsewhere on this machine (alertmanager's /etc/alertmanager is
  // Debian's /etc/prometheus).
  std::vector<PathMapping> image_paths{};
  // Programs in the command line are looked up on this machine; for python:* "python" is python3.
  std::vector<std::pair<std::string, std::string>> program_aliases{};
};

// The image's local form, or nullopt when it does not map (or its program is not installed).
std::optional<LocalImage> map_local_image(const std::string& image);
// "prom/prometheus, prom/alertmanager, ..." — the images the table knows (installed or not).
std::string mapped_image_names();

// docker's rule: Entrypoint (the container's, else the image's) followed by Cmd (the container's;
// the image's only when the container overrides neither). Then the local program is resolved, a
// single shell string becomes `sh -c`, paths under a mapping are rewritten, the listen flag set.
// Throws Error when the command line is empty or its program is not found.
std::vector<std::string> local_command(const LocalImage& image,
                                       const std::vector<std::string>& entrypoint,
                                       const std::vector<std::string>& cmd,
                                       const std::vector<PathMapping>& paths, int host_port);

// A health check's Test (["CMD", ...] or ["CMD-SHELL", "..."]) as a local command: CMD-SHELL runs
// through /bin/sh -c; `localhost:<container port>` / `127.0.0.1:<container port>` name the
// published host port; paths are rewritten as for the command. Empty for NONE or an unknown form.
std::vector<std::string> local_health_command(const LocalImage& image,
                                              const std::vector<std::string>& test,
                                              const std::vector<PathMapping>& paths, int host_port);

}  // namespace faultline::fakes::docker
