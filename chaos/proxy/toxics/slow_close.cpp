// slow_close: holds the end of the stream for `delay` ms before passing it on; data flows freely.
#include <optional>

#include "chaos/proxy/toxic_kind.h"

namespace faultline::proxy {
namespace {

class SlowCloseToxic final : public Toxic {
 public:
  SlowCloseToxic(const Attributes& a, ToxicContext& ctx) : Toxic(ctx), delay_(a.at("delay")) {}
  ~SlowCloseToxic() override {
    if (timer_) ctx().cancel(*timer_);
  }

  void on_data(std::string data) override { ctx().emit(std::move(data)); }
  void on_eof() override {
    timer_ = ctx().after(millis(delay_), [this] {
      timer_.reset();
      ctx().emit_eof();
    });
  }
  void release() override {
    if (!timer_) return;
    ctx().cancel(*timer_);
    timer_.reset();
    ctx().emit_eof();
  }

 private:
  std::int64_t delay_;
  std::optional<TimerId> timer_;
};

}  // namespace

const ToxicKind& slow_close_kind() {
  static const ToxicKind kind{"slow_close",
                              {{"delay", 0, 0, 3'600'000}},
                              ToxicScope::stream,
                              [](const Attributes& a, ToxicContext& ctx) {
                                return std::make_unique<SlowCloseToxic>(a, ctx);
                              }};
  return kind;
}

}  // namespace faultline::proxy
