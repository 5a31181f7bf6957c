// The netns-partition fault (fault_kind.h): a real network partition of a local service that the
// backend started in its own network namespace (chaos/netns, LocalBackend::isolate_network).
//
// prepare (before the stack comes up) asks the Environment to put the target in a namespace; on
// any backend but local, or where namespaces cannot be made (not root, no iproute2, no iptables),
// it returns the reason and the runner refuses the scenario with it (verdict unknown) before
// anything starts. inject cuts the namespace's veth with iptables DROP rules inside the namespace
// (NetnsPartition::cut, its heal action registered in the run directory first, so a SIGKILLed
// harness is healed by its watchdog or `faultline reap`); heal removes the rules.
//
// Nothing answers across the cut, so a client blocked on a reply would wait out the kernel's
// retransmission timeout (tcp_retries2: about 15 minutes). As a TCP stack gives up, `timeout_ms`
// (default 3000; must be > 0) after the cut the host's sockets to the namespace are aborted
// (NetnsPartition::abort_host_connections): the fault proxy's upstream connections fail, the
// proxy closes the clients' connections, and new ones hang in connect until the heal. The abort
// runs on the clock's timer thread (the runner's thread may be blocked in an operation) and is
// journaled as a `decision` with the number of sockets aborted.
//
// Thread safety: inject and heal run on the runner's thread; the abort timer takes the fault's
// mutex, and heal() cancels it and drops everything the timer could reach.
#include <chrono>
#include <memory>
#include <mutex>

#include "chaos/engine/environment.h"
#include "chaos/engine/fault_kind.h"
#include "chaos/netns/netns_partition.h"
#include "chaos/netns/network_namespace.h"
#include "harness/core/error.h"

namespace faultline::chaos {
namespace {

constexpr const char* kName = "netns-partition";

// What the abort timer may touch, emptied by heal() (under `mu`) so a timer that fires late, or a
// closure that outlives the run in the clock, reaches nothing.
struct CutState {
  std::mutex mu;
  bool healed = false;
  std::shared_ptr<netns::NetworkNamespace> ns;
  std::unique_ptr<netns::NetnsPartition> partition;
  Journal* journal = nullptr;
  std::string target;
};

class NetnsCut final : public ActiveFault {
 public:
  NetnsCut(Environment& env, const std::string& target, std::shared_ptr<netns::NetworkNamespace> ns,
           std::chrono::milliseconds timeout)
      : clock_(env.clock()), state_(std::make_shared<CutState>()) {
    state_->ns = std::move(ns);
    state_->partition = std::make_unique<netns::NetnsPartition>(env.run_directory(), *state_->ns);
    state_->journal = &env.journal();
    state_->target = target;
    state_->partition->cut();
    timer_ = clock_.call_after(timeout, [state = state_] {
      std::lock_guard lock(state->mu);
      if (state->healed || !state->partition) return;
      std::size_t aborted = 0;
      std::string error;
      try {
        aborted = state->partition->abort_host_connections();
      } catch (const std::exception& e) {
        error = e.what();
      }
      nlohmann::json fields = {{"fault", kName},
                               {"target", state->target},
                               {"decision", "abort-host-connections"},
                               {"aborted", aborted}};
      if (!error.empty()) fields["error"] = error;
      state->journal->append(event_kind::kDecision, state->target, fields);
    });
  }
  ~NetnsCut() override {
    try {
      heal();
    } catch (const std::exception&) {
      // The partition's heal action stays pending: the watchdog or the reaper heals it.
    }
  }

  void heal() override {
    if (!timer_) return;
    clock_.cancel(*timer_);
    std::unique_ptr<netns::NetnsPartition> partition;
    std::shared_ptr<netns::NetworkNamespace> ns;
    {
      std::lock_guard lock(state_->mu);  // waits for an abort under way
      state_->healed = true;
      partition = std::move(state_->partition);
      ns = std::move(state_->ns);
      state_->journal = nullptr;
    }
    timer_.reset();
    partition->heal();  // throws if the rules stay: then its heal action stays pending too
  }

 private:
  Clock& clock_;
  std::shared_ptr<CutState> state_;
  std::optional<TimerId> timer_;
};

}  // namespace

FaultKind netns_partition_fault_kind() {
  FaultKind k{kName,
              "netns",
              "local: the target runs in its own network namespace; iptables inside it drop "
              "every packet on its veth (no RST, no ICMP); the host's connections to it are "
              "aborted after timeout_ms, as TCP would give up",
              {"timeout_ms"},
              false,
              "",
              {}};
  k.prepare = [](Environment& env, const std::string& target) {
    return env.isolate_network(target);
  };
  k.inject = [](Environment& env, const std::string& target, const nlohmann::json& p) {
    const int timeout_ms = p.value("timeout_ms", 3000);
    if (timeout_ms <= 0) {
      throw UsageError(std::string(kName) +
                       ": timeout_ms must be > 0 (a client blocked across the cut would wait out "
                       "the kernel's TCP retransmissions, about 15 minutes)");
    }
    auto ns = env.network_namespace(target);
    if (!ns) {
      throw Error("service '" + target +
                  "' does not run in a network namespace (the runner puts the targets of " + kName +
                  " in one before the stack comes up)");
    }
    return std::unique_ptr<ActiveFault>(
        new NetnsCut(env, target, std::move(ns), std::chrono::milliseconds(timeout_ms)));
  };
  return k;
}

}  // namespace faultline::chaos
