// The image table of the Docker fake's process backing, and a container's local command line.
#include "fakes/docker/local_images.h"

#include <algorithm>
#include <cctype>

#include "harness/core/error.h"
#include "harness/core/find_program.h"

namespace faultline::fakes::docker {

namespace {

// "docker.io/library/python:3.12-slim" -> "python"; "prom/prometheus:v2.48.0" -> "prom/prometheus".
std::string repository(const std::string& ref) {
  std::string r = ref;
  if (const auto at = r.find('@'); at != std::string::npos) r = r.substr(0, at);
  const auto slash = r.rfind('/');
  const auto colon = r.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    r = r.substr(0, colon);
  }
  for (const char* registry : {"docker.io/", "index.docker.io/"}) {
    if (r.rfind(registry, 0) == 0) r = r.substr(std::string(registry).size());
  }
  if (r.rfind("library/", 0) == 0) r = r.substr(8);
  return r;
}

struct TableRow {
  const char* repository;
  const char* program;  // looked up in PATH; must exist for the image to map
  bool program_is_entrypoint;
  bool any_tag;         // listed as "<repository>:*" (the program does not depend on the tag)
  LocalImage settings;  // everything but `image` and the resolved entrypoint
};

const std::vector<TableRow>& table() {
  static const std::vector<TableRow> rows = {
      {"prom/prometheus",
       "prometheus",
       true,
       false,
       {.cmd = {"--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"},
        .container_port = 9090,
        .listen_flag = "--web.listen-address",
        .data_dir = "/prometheus"}},
      // The image's config is /etc/alertmanager/alertmanager.yml; Debian's is in /etc/prometheus.
      {"prom/alertmanager",
       "prometheus-alertmanager",
       true,
       false,
       {.cmd = {"--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager"},
        .container_port = 9093,
        .listen_flag = "--web.listen-address",
        .extra_args = {"--cluster.listen-address="},  // no gossip port (loopback only)
        .data_dir = "/alertmanager",
        .image_paths = {{"/etc/alertmanager", "/etc/prometheus"}}}},
      {"prom/node-exporter",
       "prometheus-node-exporter",
       true,
       false,
       {.container_port = 9100, .listen_flag = "--web.listen-address"}},
      {"busybox", "sh", false, false, {.cmd = {"sh"}}},
      {"alpine", "sh", false, false, {.cmd = {"sh"}}},
      {"debian", "bash", false, false, {.cmd = {"bash"}}},
      {"ubuntu", "bash", false, false, {.cmd = {"bash"}}},
      {"python",
       "python3",
       false,
       true,
       {.cmd = {"python3"}, .program_aliases = {{"python", "python3"}}}},
      {"node", "node", false, true, {.cmd = {"node"}}},
  };
  return rows;
}

bool path_boundary(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '=' || c == '\'' || c == '"' || c == ':' ||
         c == '<' || c == '>' || c == ';' || c == '(' || c == '|';
}

// A shell script (an argument with a space): each mapped path that starts a word is rewritten.
std::string rewrite_script(std::string text, const std::vector<PathMapping>& paths) {
  for (const auto& m : paths) {
    if (m.target.empty() || m.target == "/") continue;
    const std::string to = m.source.string();
    for (std::size_t at = text.find(m.target); at != std::string::npos;
         at = text.find(m.target, at)) {
      const std::size_t end = at + m.target.size();
      const bool starts = at == 0 || path_boundary(text[at - 1]);
      const bool ends = end == text.size() || text[end] == '/' || path_boundary(text[end]);
      if (!starts || !ends) {
        at = end;
        continue;
      }
      text.replace(at, m.target.size(), to);
      at += to.size();
    }
  }
  return text;
}

// `arg` or the value of `--flag=arg` rewritten when it names a mapped path.
std::string rewrite_path(const std::string& arg, const std::vector<PathMapping>& paths) {
  if (arg.find(' ') != std::string::npos) return rewrite_script(arg, paths);
  const auto eq = arg.find('=');
  const std::size_t start = (arg.rfind("-", 0) == 0 && eq != std::string::npos) ? eq + 1 : 0;
  const std::string value = arg.substr(start);
  for (const auto& m : paths) {
    if (m.target.empty()) continue;
    if (value == m.target) return arg.substr(0, start) + m.source.string();
    if (value.rfind(m.target + "/", 0) == 0) {
      return arg.substr(0, start) + (m.source / value.substr(m.target.size() + 1)).string();
    }
  }
  return arg;
}

std::string resolve_program(const LocalImage& image, const std::string& program) {
  std::string name = program;
  for (const auto& [from, to] : image.program_aliases) {
    if (name == from) name = to;
  }
  if (auto found = find_program(name)) return found->string();
  // An absolute path inside the image (/bin/prometheus, /bin/alertmanager): this machine's program
  // of that name, else the image's own program when the name is the image's.
  if (name.find('/') != std::string::npos) {
    const std::string base = std::filesystem::path(name).filename().string();
    if (auto found = find_program(base)) return found->string();
    if (!image.entrypoint.empty() && repository(image.image).find(base) != std::string::npos) {
      return image.entrypoint[0];
    }
  }
  throw Error("no program '" + program + "' on this machine for image " + image.image);
}

}  // namespace

std::optional<LocalImage> map_local_image(const std::string& image) {
  const std::string repo = repository(image);
  for (const auto& row : table()) {
    if (repo != row.repository) continue;
    const auto program = find_program(row.program);
    if (!program) return std::nullopt;
    LocalImage out = row.settings;
    out.image = image;
    if (row.program_is_entrypoint) out.entrypoint = {program->string()};
    return out;
  }
  return std::nullopt;
}

std::string mapped_image_names() {
  std::string out;
  for (const auto& row : table()) {
    if (!out.empty()) out += ", ";
    out += row.repository;
    if (row.any_tag) out += ":*";
  }
  return out;
}

std::vector<std::string> local_command(const LocalImage& image,
                                       const std::vector<std::string>& entrypoint,
                                       const std::vector<std::string>& cmd,
                                       const std::vector<PathMapping>& paths, int host_port) {
  std::vector<std::string> argv = entrypoint.empty() ? image.entrypoint : entrypoint;
  const auto& args = cmd.empty() && entrypoint.empty() ? image.cmd : cmd;
  argv.insert(argv.end(), args.begin(), args.end());
  if (argv.empty() || argv[0].empty()) {
    throw Error("image " + image.image + " has no command to run (no Entrypoint or Cmd)");
  }
  if (argv.size() == 1 && argv[0].find(' ') != std::string::npos) {
    argv = {"/bin/sh", "-c", argv[0]};
  }
  argv[0] = resolve_program(image, argv[0]);
  std::vector<PathMapping> mappings = paths;  // the container's mounts first
  mappings.insert(mappings.end(), image.image_paths.begin(), image.image_paths.end());
  std::vector<std::string> out{argv[0]};
  const std::string flag = image.listen_flag;
  for (std::size_t i = 1; i < argv.size(); ++i) {
    if (!flag.empty() && host_port > 0) {
      if (argv[i] == flag) {
        ++i;  // "--web.listen-address :9090": both go
        continue;
      }
      if (argv[i].rfind(flag + "=", 0) == 0) continue;
    }
    out.push_back(rewrite_path(argv[i], mappings));
  }
  if (!flag.empty() && host_port > 0) {
    out.push_back(flag + "=127.0.0.1:" + std::to_string(host_port));
  }
  for (const auto& extra : image.extra_args) {
    const auto key = extra.substr(0, extra.find('=') + 1);
    const bool given = std::any_of(out.begin() + 1, out.end(),
                                   [&](const std::string& a) { return a.rfind(key, 0) == 0; });
    if (!given) out.push_back(extra);
  }
  return out;
}

std::vector<std::string> local_health_command(const LocalImage& image,
                                              const std::vector<std::string>& test,
                                              const std::vector<PathMapping>& paths,
                                              int host_port) {
  if (test.size() < 2) return {};
  std::vector<std::string> argv;
  if (test[0] == "CMD") {
    argv.assign(test.begin() + 1, test.end());
  } else if (test[0] == "CMD-SHELL") {
    argv = {"/bin/sh", "-c", test[1]};
  } else {
    return {};
  }
  if (host_port > 0 && image.container_port > 0) {
    const std::string to = "127.0.0.1:" + std::to_string(host_port);
    for (auto& a : argv) {
      for (const std::string from : {"localhost:", "127.0.0.1:"}) {
        const std::string needle = from + std::to_string(image.container_port);
        for (auto at = a.find(needle); at != std::string::npos; at = a.find(needle, at + 1)) {
          const std::size_t end = at + needle.size();
          if (end < a.size() && std::isdigit(static_cast<unsigned char>(a[end]))) continue;
          a.replace(at, needle.size(), to);
          at += to.size() - 1;
        }
      }
    }
  }
  for (std::size_t i = 1; i < argv.size(); ++i) argv[i] = rewrite_path(argv[i], paths);
  if (auto found = find_program(argv[0])) argv[0] = found->string();
  return argv;
}

}  // namespace faultline::fakes::docker
