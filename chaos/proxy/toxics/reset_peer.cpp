// reset_peer: resets the link (RST to both peers) `timeout` ms after the toxic reached it, or as
// soon as data arrives when timeout is 0. Data flows normally until then.
#include <optional>

#include "chaos/proxy/toxic_kind.h"

namespace faultline::proxy {
namespace {

class ResetPeerToxic final : public Toxic {
 public:
  ResetPeerToxic(const Attributes& a, ToxicContext& ctx) : Toxic(ctx), timeout_(a.at("timeout")) {
    if (timeout_ > 0) {
      timer_ = ctx.after(millis(timeout_), [this] {
        timer_.reset();
        this->ctx().reset_link();
      });
    }
  }
  ~ResetPeerToxic() override {
    if (timer_) ctx().cancel(*timer_);
  }

  void on_data(std::string data) override {
    if (timeout_ == 0) {
      ctx().discard(data.size());
      ctx().reset_link();
      return;
    }
    ctx().emit(std::move(data));
  }

 private:
  std::int64_t timeout_;
  std::optional<TimerId> timer_;
};

}  // namespace

const ToxicKind& reset_peer_kind() {
  static const ToxicKind kind{"reset_peer",
                              {{"timeout", 0, 0, 86'400'000}},
                              ToxicScope::stream,
                              [](const Attributes& a, ToxicContext& ctx) {
                                return std::make_unique<ResetPeerToxic>(a, ctx);
                              }};
  return kind;
}

}  // namespace faultline::proxy
