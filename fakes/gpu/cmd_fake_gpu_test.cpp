// `faultline fake gpu` run as a person runs it: it prints its nvidia-smi, the environment to use
// it and its control endpoint; the printed nvidia-smi answers; a fault posted to the endpoint
// shows in nvidia-smi; SIGTERM stops it cleanly and takes its state file along.
#include <signal.h>

#include <regex>

#include <gtest/gtest.h>

#include "harness/clients/gpu/command_capture.h"
#include "harness/core/run_dir.h"
#include "harness/core/supervisor.h"
#include "harness/testing/net_testing.h"
#include "harness/testing/process_testing.h"

namespace faultline {
namespace {

using faultline::testing::read_file;
using faultline::testing::wait_until;

class FakeGpuCli : public ::testing::Test {
 protected:
  // Starts `faultline fake gpu <args>`; true once it has printed its control endpoint.
  bool start(const std::vector<std::string>& args) {
    run_.emplace(RunDirectory::create("cmd_fake_gpu_test", {.root = tmp_.path()}));
    supervisor_.emplace(*run_);
    ProcessSpec spec;
    spec.argv = {FAULTLINE_BIN, "fake", "gpu"};
    spec.argv.insert(spec.argv.end(), args.begin(), args.end());
    spec.env["TMPDIR"] = tmp_.path().string();  // its run directory goes in our temp dir
    spec.stdout_path = tmp_.path() / "out";
    spec.stderr_path = tmp_.path() / "err";
    child_.emplace(supervisor_->spawn(spec));
    return wait_until([&] {
             return read_file(spec.stdout_path).find("control endpoint") != std::string::npos ||
                    !child_->running();
           }) &&
           child_->running();
  }
  std::string out() { return read_file(tmp_.path() / "out"); }
  std::string match(const std::string& pattern) {
    std::smatch m;
    const std::string text = out();
    return std::regex_search(text, m, std::regex(pattern)) ? std::string(m[1]) : std::string();
  }

  faultline::testing::TempDir tmp_;
  std::optional<RunDirectory> run_;
  std::optional<Supervisor> supervisor_;
  std::optional<Child> child_;
};

TEST_F(FakeGpuCli, ServesNvidiaSmiAndFaultsUntilSigterm) {
  ASSERT_TRUE(start({"--devices", "3", "--host", "gpu-x"})) << out();
  const std::string smi = match("nvidia-smi (\\S+)\n");
  const std::string state = match("export FAULTLINE_FAKE_GPU_STATE=(\\S+) ");
  const int port = std::stoi(match("control endpoint http://127\\.0\\.0\\.1:(\\d+)/faults"));
  ASSERT_FALSE(smi.empty()) << out();
  ASSERT_FALSE(state.empty()) << out();
  const std::map<std::string, std::string> env = {{"FAULTLINE_FAKE_GPU_STATE", state}};
  auto r = clients::run_captured({smi, "-L"}, env, std::chrono::seconds(20));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 3) << r.out;

  const auto reply = faultline::testing::http(static_cast<std::uint16_t>(port), "POST",
                                              "/faults/xid79", R"({"device":2})");
  EXPECT_EQ(reply.status, 200) << reply.body;
  r = clients::run_captured({smi, "--query-gpu=index", "--format=csv,noheader"}, env,
                            std::chrono::seconds(20));
  EXPECT_EQ(r.exit_code, 15);
  EXPECT_NE(r.out.find("GPU is lost"), std::string::npos) << r.out;

  child_->signal(SIGTERM);
  const ExitStatus status = child_->wait();
  EXPECT_TRUE(status.success()) << status.str() << read_file(tmp_.path() / "err");
  EXPECT_NE(out().find("stopped (SIGTERM)"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(state));
}

TEST_F(FakeGpuCli, UsageErrorsExit2) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--devices", "0"}, {"--control", "nonsense"}, {"--nvidia-smi", "/nonexistent/smi"}}) {
    const auto r = clients::run_captured(
        [&] {
          std::vector<std::string> argv = {FAULTLINE_BIN, "fake", "gpu"};
          argv.insert(argv.end(), args.begin(), args.end());
          return argv;
        }(),
        {{"TMPDIR", tmp_.path().string()}}, std::chrono::seconds(20));
    EXPECT_EQ(r.exit_code, 2) << args[0] << ": " << r.out << r.err;
  }
}

}  // namespace
}  // namespace faultline
