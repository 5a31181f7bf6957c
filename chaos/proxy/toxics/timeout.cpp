// timeout: stops all data. With timeout > 0 the link is closed `timeout` ms after the toxic
// reached it; with 0 the data is held until the toxic is removed, then delivered in order.
#include <deque>
#include <optional>

#include "chaos/proxy/toxic_kind.h"

namespace faultline::proxy {
namespace {

class TimeoutToxic final : public Toxic {
 public:
  TimeoutToxic(const Attributes& a, ToxicContext& ctx) : Toxic(ctx) {
    if (a.at("timeout") > 0) {
      timer_ = ctx.after(millis(a.at("timeout")), [this] {
        timer_.reset();
        this->ctx().close_link();
      });
    }
  }
  ~TimeoutToxic() override {
    if (timer_) ctx().cancel(*timer_);
  }

  void on_data(std::string data) override { held_.push_back(std::move(data)); }
  void on_eof() override { eof_ = true; }
  void release() override {
    for (auto& d : held_) ctx().emit(std::move(d));
    held_.clear();
    if (eof_) ctx().emit_eof();
    eof_ = false;
  }

 private:
  std::deque<std::string> held_;
  bool eof_ = false;
  std::optional<TimerId> timer_;
};

}  // namespace

const ToxicKind& timeout_kind() {
  static const ToxicKind kind{"timeout",
                              {{"timeout", 0, 0, 86'400'000}},
                              ToxicScope::stream,
                              [](const Attributes& a, ToxicContext& ctx) {
                                return std::make_unique<TimeoutToxic>(a, ctx);
                              }};
  return kind;
}

}  // namespace faultline::proxy
