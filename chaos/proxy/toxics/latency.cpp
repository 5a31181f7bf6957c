// latency: delays every chunk by `latency` ms plus a jitter drawn uniformly from
// [-jitter, +jitter] ms with the toxic's seeded Rng. Order is kept: a chunk never leaves before
// the one ahead of it.
#include "chaos/proxy/toxic_kind.h"
#include "chaos/proxy/toxics/timed_queue.h"

namespace faultline::proxy {
namespace {

constexpr std::int64_t kHourMs = 3'600'000;

class LatencyToxic final : public Toxic {
 public:
  LatencyToxic(const Attributes& a, ToxicContext& ctx)
      : Toxic(ctx), latency_(a.at("latency")), jitter_(a.at("jitter")), queue_(ctx) {}

  void on_data(std::string data) override {
    std::int64_t delay = latency_;
    if (jitter_ > 0) delay += ctx().rng().uniform_signed(-jitter_, jitter_);
    if (delay < 0) delay = 0;
    queue_.push(ctx().now() + millis(delay), std::move(data));
  }
  void on_eof() override { queue_.push_eof(); }
  void release() override { queue_.release(); }

 private:
  std::int64_t latency_;
  std::int64_t jitter_;
  TimedQueue queue_;
};

}  // namespace

const ToxicKind& latency_kind() {
  static const ToxicKind kind{"latency",
                              {{"latency", 0, 0, kHourMs}, {"jitter", 0, 0, kHourMs}},
                              ToxicScope::stream,
                              [](const Attributes& a, ToxicContext& ctx) {
                                return std::make_unique<LatencyToxic>(a, ctx);
                              }};
  return kind;
}

}  // namespace faultline::proxy
