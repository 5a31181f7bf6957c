// `faultline proxy`: runs the fault proxy on its own, as toxiproxy-server does — the
// Toxiproxy-compatible HTTP API on --api (127.0.0.1:8474 by default) and, with --config, the
// proxies of a populate file (a JSON array of {name, listen, upstream, enabled}). It prints one
// line when ready, runs until SIGINT or SIGTERM and then closes every proxy. A bad config file, an
// address in use or a bad address print one line and exit 2.
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "chaos/proxy/http_api.h"
#include "chaos/proxy/proxy_server.h"
#include "harness/cli/commands.h"
#include "harness/core/error.h"
#include "harness/core/event_loop.h"
#include "harness/core/log.h"

namespace faultline {
namespace {

struct ProxyOptions {
  std::string config;
  std::string api = "127.0.0.1:8474";
  std::vector<std::string> allowed_hosts;  // upstream hosts off loopback
};

nlohmann::json read_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError({path}, "cannot read the proxy config");
  std::stringstream text;
  text << in.rdbuf();
  try {
    return nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::parse_error& e) {
    // nlohmann reports a byte offset; turn it into a line for the one-line error.
    const std::string s = text.str();
    const std::size_t upto = std::min<std::size_t>(e.byte, s.size());
    int line = 1;
    for (std::size_t i = 0; i < upto; ++i) line += s[i] == '\n' ? 1 : 0;
    throw InputError({path, line}, "malformed JSON: " + std::string(e.what()));
  }
}

void run_proxy(const ProxyOptions& options) {
  // Signals are taken with sigwait on this thread: block them before any thread starts.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  nlohmann::json config;
  if (!options.config.empty()) config = read_config(options.config);
  // The seed is printed with the ready line below, so that a usage error stays one line.
  const SeedChoice seed = choose_seed(cli::global_options().seed);

  RealClock clock;
  EventLoop loop;
  proxy::ProxyServer server(loop, clock, Rng(seed.seed).child("proxy"));
  for (const auto& host : options.allowed_hosts) server.allow_remote_host(host);
  try {
    if (!config.is_null()) server.populate(config);
  } catch (const proxy::ApiError& e) {
    std::string problem = e.what();
    const std::string api_prefix = "bad request body: ";  // the API's wording, not a file's
    if (problem.rfind(api_prefix, 0) == 0) problem = problem.substr(api_prefix.size());
    throw InputError({options.config}, "proxy config: " + problem);
  }
  std::unique_ptr<proxy::HttpApi> api;
  try {
    api = std::make_unique<proxy::HttpApi>(server, options.api);
  } catch (const proxy::ApiError& e) {
    throw UsageError(std::string("--api: ") + e.what());
  }
  std::printf("faultline proxy: API on http://%s (seed %llu)\n", api->address().c_str(),
              static_cast<unsigned long long>(seed.seed));
  std::fflush(stdout);
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  log::info("proxy", "stopping", {{"signal", signal_number}});
  api.reset();
}

void add_proxy_command(CLI::App& app) {
  auto options = std::make_shared<ProxyOptions>();
  auto* cmd = app.add_subcommand(
      "proxy",
      "Run the TCP fault proxy with a Toxiproxy-compatible HTTP API, until SIGINT/SIGTERM");
  cmd->add_option("--config", options->config,
                  "a JSON array of proxies to create at start (Toxiproxy's populate format)");
  cmd->add_option("--api", options->api, "address of the HTTP API (default 127.0.0.1:8474)");
  cmd->add_option("--allow-upstream-host", options->allowed_hosts,
                  "an upstream host off loopback that proxies may reach (repeatable; by default "
                  "upstreams must be on loopback)");
  cmd->callback([options] { run_proxy(*options); });
}

}  // namespace

FAULTLINE_COMMAND(40, add_proxy_command);

}  // namespace faultline
