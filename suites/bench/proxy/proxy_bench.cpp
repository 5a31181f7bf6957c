// proxy_bench: the fault proxy measured against a direct loopback connection, side by side in one
// run, with the proxy as its own process (`faultline proxy`, as toxiproxy-server is measured):
//   idle      RSS the proxy process adds holding 1,000 idle connections (measured first, on a
//             fresh process)
//   bulk      one connection, --bulk-mib MiB one way: throughput direct and proxied, and the ratio
//   pingpong  --rounds round trips of 64 bytes, direct and proxied interleaved: p50/p99 and ratios
//   latency   round trips with a 50 ms latency toxic: p50 and its error against 50 ms
//   bandwidth a 1 MB/s bandwidth toxic: achieved rate and its error
//   redis     redis-benchmark GET, -P 16 and -c 50, direct and proxied
// Throughput figures are the best of three alternating runs, as the machine may be shared.
// Prints "name value unit" lines (for run.sh's table). Every loop is bounded in count and time.
// Not a test: figures are measured, never asserted.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "chaos/proxy/proxy_test_support.h"
#include "harness/core/error.h"
#include "harness/core/ports.h"
#include "harness/core/run_dir.h"
#include "harness/core/supervisor.h"

using namespace faultline;
using namespace faultline::proxy::testing;
using Clock = std::chrono::steady_clock;

namespace {

void emit(const char* name, double value, const char* unit) {
  std::printf("%s %.3f %s\n", name, value, unit);
  std::fflush(stdout);
}

// The proxy process and its API.
struct ProxyProcess {
  ProxyProcess(RunDirectory& run, const std::string& faultline) : api_port(pick_free_port()) {
    Supervisor sup(run);
    child.emplace(sup.spawn({{faultline, "--log-level", "warn", "proxy", "--api",
                              "127.0.0.1:" + std::to_string(api_port)},
                             {},
                             {},
                             "/dev/null",
                             {}}));
    eventually([&] { return http(api_port, "GET", "/version").status == 200; });
  }
  std::uint16_t create(const std::string& name, std::uint16_t upstream) {
    auto r = http(api_port, "POST", "/proxies",
                  nlohmann::json{{"name", name},
                                 {"listen", "127.0.0.1:0"},
                                 {"upstream", "127.0.0.1:" + std::to_string(upstream)}}
                      .dump());
    if (r.status != 201) throw Error("creating a proxy failed: " + r.body);
    const std::string listen = nlohmann::json::parse(r.body)["listen"];
    return static_cast<std::uint16_t>(std::stoul(listen.substr(listen.rfind(':') + 1)));
  }
  void toxic(const std::string& proxy, const nlohmann::json& body) {
    auto r = http(api_port, "POST", "/proxies/" + proxy + "/toxics", body.dump());
    if (r.status != 200) throw Error("adding a toxic failed: " + r.body);
  }
  // CPU seconds (user + system) the proxy process has used so far.
  double cpu_seconds() const {
    std::ifstream in("/proc/" + std::to_string(child->pid()) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // Fields after the command name's closing parenthesis; utime and stime are fields 14 and 15.
    std::istringstream rest(text.substr(text.rfind(')') + 2));
    std::string field;
    double ticks = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
      if (i >= 14) ticks += std::stod(field);
    }
    return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
  }
  double rss_mib() const {
    std::ifstream in("/proc/" + std::to_string(child->pid()) + "/status");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
    }
    return -1;
  }
  std::uint16_t api_port;
  std::optional<Child> child;
};

// Reads everything a connection sends until EOF, then answers one byte.
double bulk(std::uint16_t via_port, std::uint16_t server_port, Fd& server, std::size_t bytes) {
  (void)server_port;
  std::thread sink([&] {
    Fd c(::accept4(server.get(), nullptr, nullptr, SOCK_CLOEXEC));
    std::vector<char> buf(1 << 20);
    while (::recv(c.get(), buf.data(), buf.size(), 0) > 0) {
    }
    send_all(c.get(), "k");
  });
  Fd c = connect_local(via_port);
  std::vector<char> block(1 << 20, 'b');
  const auto start = Clock::now();
  std::size_t sent = 0;
  while (sent < bytes) {
    const ssize_t n = ::send(c.get(), block.data(), std::min(block.size(), bytes - sent), 0);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  ::shutdown(c.get(), SHUT_WR);
  read_until(c.get(), 1, std::chrono::minutes(5));
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  sink.join();
  return static_cast<double>(sent) / seconds / 1e6;  // MB/s
}

struct Percentiles {
  double p50_us;
  double p99_us;
};

// One 64-byte round trip on `fd`, in microseconds; negative if the connection failed.
double round_trip(int fd, const std::string& msg) {
  char buf[64];
  const auto start = Clock::now();
  send_all(fd, msg);
  std::size_t got = 0;
  while (got < msg.size()) {
    const ssize_t n = ::recv(fd, buf, msg.size() - got, 0);
    if (n <= 0) return -1;
    got += static_cast<std::size_t>(n);
  }
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

Percentiles percentiles(std::vector<double>& us) {
  if (us.empty()) return {-1, -1};
  std::sort(us.begin(), us.end());
  return {us[us.size() / 2], us[us.size() * 99 / 100]};
}

// Round trips on each port in turn, one at a time, so that direct and proxied see the same
// machine (a VM's wake-up latency drifts by an order of magnitude over seconds); the first 200
// of each warm up and are not counted.
std::vector<Percentiles> pingpong(const std::vector<std::uint16_t>& ports, int rounds) {
  std::vector<Fd> conns;
  for (const auto port : ports) conns.push_back(connect_local(port));
  const std::string msg(64, 'p');
  std::vector<std::vector<double>> us(ports.size());
  for (int i = 0; i < rounds + 200; ++i) {
    for (std::size_t k = 0; k < conns.size(); ++k) {
      const double t = round_trip(conns[k].get(), msg);
      if (t < 0) return std::vector<Percentiles>(ports.size(), Percentiles{-1, -1});
      if (i >= 200) us[k].push_back(t);
    }
  }
  std::vector<Percentiles> out;
  for (auto& v : us) out.push_back(percentiles(v));
  return out;
}

// A server that sends `bytes` to each connection and closes it.
double bandwidth(std::uint16_t via_port, Fd& server, std::size_t bytes) {
  std::thread source([&] {
    Fd c(::accept4(server.get(), nullptr, nullptr, SOCK_CLOEXEC));
    send_all(c.get(), std::string(bytes, 's'));
  });
  Fd c = connect_local(via_port);
  const auto start = Clock::now();
  const ReadResult r = read_until(c.get(), bytes, std::chrono::minutes(2));
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  source.join();
  return static_cast<double>(r.data.size()) / seconds / 1e6;
}

// redis-benchmark's GET rate (requests/s) against `port`, run under the run directory.
double redis_benchmark(RunDirectory& run, std::uint16_t port,
                       const std::vector<std::string>& extra) {
  static int n = 0;
  const std::string out = (run.path() / ("rb" + std::to_string(++n) + ".out")).string();
  std::vector<std::string> argv = {"redis-benchmark",    "-h", "127.0.0.1", "-p",
                                   std::to_string(port), "-t", "get",       "-q"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  Supervisor sup(run);
  Child child = sup.spawn({argv, {}, {}, out, "/dev/null"});
  if (!wait_for_exit(child.pid(), std::chrono::minutes(3))) child.terminate();
  child.wait();
  std::ifstream in(out);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // -q prints "GET: 123456.78 requests per second, ..." (after \r progress lines).
  const auto at = text.rfind("GET: ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + 5));
}

void redis_section(RunDirectory& run, ProxyProcess& proxy) {
  if (::access("/usr/bin/redis-server", X_OK) != 0 ||
      ::access("/usr/bin/redis-benchmark", X_OK) != 0) {
    std::printf("# redis-server or redis-benchmark missing: redis figures skipped\n");
    return;
  }
  const std::uint16_t port = pick_free_port();
  Supervisor sup(run);
  Child redis = sup.spawn({{"redis-server", "--port", std::to_string(port), "--bind", "127.0.0.1",
                            "--save", "", "--appendonly", "no", "--dir", run.path().string()},
                           {},
                           run.path(),
                           "/dev/null",
                           "/dev/null"});
  eventually([&] { return bool(connect_local(port)); });
  const std::uint16_t proxied = proxy.create("redis", port);
  const std::vector<std::string> pipelined = {"-n", "1000000", "-P", "16"};
  const std::vector<std::string> clients = {"-n", "200000", "-c", "50"};
  double p_direct = 0, p_via = 0, c_direct = 0, c_via = 0;
  for (int rep = 0; rep < 3; ++rep) {  // alternating, best of three each
    p_direct = std::max(p_direct, redis_benchmark(run, port, pipelined));
    p_via = std::max(p_via, redis_benchmark(run, proxied, pipelined));
    c_direct = std::max(c_direct, redis_benchmark(run, port, clients));
    c_via = std::max(c_via, redis_benchmark(run, proxied, clients));
  }
  emit("redis_get_P16_direct_rps", p_direct, "req/s");
  emit("redis_get_P16_proxied_rps", p_via, "req/s");
  emit("redis_get_P16_ratio", p_via / p_direct, "x");
  emit("redis_get_c50_direct_rps", c_direct, "req/s");
  emit("redis_get_c50_proxied_rps", c_via, "req/s");
  emit("redis_get_c50_ratio", c_via / c_direct, "x");
  redis.terminate();
}

}  // namespace

int main(int argc, char** argv) {
  std::string faultline = "faultline";
  std::size_t bulk_mib = 2048;
  int rounds = 50000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--faultline") faultline = argv[i + 1];
    if (flag == "--bulk-mib") bulk_mib = std::stoul(argv[i + 1]);
    if (flag == "--rounds") rounds = std::stoi(argv[i + 1]);
  }
  rlimit nofile{8192, 8192};
  ::setrlimit(RLIMIT_NOFILE, &nofile);
  RunDirectory run = RunDirectory::create("proxy_bench");
  ProxyProcess proxy(run, faultline);

  // idle connections
  {
    std::uint16_t port = 0;
    Fd server = faultline::testing::listen_local(&port, 2048);
    std::vector<Fd> accepted;
    std::thread acceptor([&] {
      for (int i = 0; i < 1000; ++i) {
        pollfd p{server.get(), POLLIN, 0};
        if (::poll(&p, 1, 20000) <= 0) break;
        accepted.emplace_back(::accept4(server.get(), nullptr, nullptr, SOCK_CLOEXEC));
      }
    });
    const std::uint16_t proxied = proxy.create("idle", port);
    const double before = proxy.rss_mib();
    std::vector<Fd> clients;
    for (int i = 0; i < 1000; ++i) clients.push_back(connect_local(proxied));
    acceptor.join();
    const bool all = eventually([&] {
      auto m = http(proxy.api_port, "GET", "/metrics");
      return m.body.find("faultline_proxy_connections_active{proxy=\"idle\"} 1000") !=
             std::string::npos;
    });
    const double after = proxy.rss_mib();
    emit("idle1000_connections_up", all ? 1 : 0, "bool");
    emit("idle1000_rss_before_MiB", before, "MiB");
    emit("idle1000_rss_added_MiB", after - before, "MiB");
  }
  // bulk: alternating direct and proxied, best of three each (the machine is shared)
  {
    std::uint16_t port = 0;
    Fd server = faultline::testing::listen_local(&port, 2048);
    const std::uint16_t proxied = proxy.create("bulk", port);
    double direct = 0, via = 0, proxy_cpu = 0;
    for (int rep = 0; rep < 3; ++rep) {
      direct = std::max(direct, bulk(port, port, server, bulk_mib << 20));
      const double cpu_before = proxy.cpu_seconds();
      via = std::max(via, bulk(proxied, port, server, bulk_mib << 20));
      proxy_cpu += proxy.cpu_seconds() - cpu_before;
    }
    emit("bulk_direct_MBps", direct, "MB/s");
    emit("bulk_proxied_MBps", via, "MB/s");
    emit("bulk_ratio", via / direct, "x");
    // What the proxy itself costs: on a machine with fewer free cores than sender, receiver and
    // proxy together, this CPU is taken from the other two and caps the ratio.
    emit("bulk_proxy_cpu_s_per_GiB", proxy_cpu / 3 / (static_cast<double>(bulk_mib) / 1024), "s");
    emit("cpu_cores", static_cast<double>(std::thread::hardware_concurrency()), "cores");
  }
  // ping-pong
  {
    EchoServer echo;
    const std::uint16_t proxied = proxy.create("pingpong", echo.port());
    const auto both = pingpong({echo.port(), proxied}, rounds);
    const Percentiles direct = both[0];
    const Percentiles via = both[1];
    emit("pingpong_direct_p50_us", direct.p50_us, "us");
    emit("pingpong_direct_p99_us", direct.p99_us, "us");
    emit("pingpong_proxied_p50_us", via.p50_us, "us");
    emit("pingpong_proxied_p99_us", via.p99_us, "us");
    emit("pingpong_p50_ratio", via.p50_us / direct.p50_us, "x");
    emit("pingpong_p99_ratio", via.p99_us / direct.p99_us, "x");

    // latency accuracy on the same echo server
    const std::uint16_t slow = proxy.create("latency", echo.port());
    proxy.toxic("latency", {{"type", "latency"}, {"attributes", {{"latency", 50}}}});
    const Percentiles lat = pingpong({slow}, 100)[0];
    emit("latency50_p50_ms", lat.p50_us / 1000, "ms");
    emit("latency50_p50_error_ms", lat.p50_us / 1000 - 50, "ms");
  }
  // bandwidth accuracy: 1 MB/s = 1000 KB/s
  {
    std::uint16_t port = 0;
    Fd server = faultline::testing::listen_local(&port, 2048);
    const std::uint16_t proxied = proxy.create("bandwidth", port);
    proxy.toxic("bandwidth", {{"type", "bandwidth"}, {"attributes", {{"rate", 1000}}}});
    const double rate = bandwidth(proxied, server, 4'000'000);
    emit("bandwidth1MBps_achieved_MBps", rate, "MB/s");
    emit("bandwidth1MBps_error_pct", (rate - 1.0) * 100, "%");
  }
  redis_section(run, proxy);
  proxy.child->terminate();
  return 0;
}
