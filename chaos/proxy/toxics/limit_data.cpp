// limit_data: lets exactly `bytes` bytes through this stream, then closes the link. bytes 0 means
// no limit.
#include "chaos/proxy/toxic_kind.h"

namespace faultline::proxy {
namespace {

class LimitDataToxic final : public Toxic {
 public:
  LimitDataToxic(const Attributes& a, ToxicContext& ctx) : Toxic(ctx), left_(a.at("bytes")) {
    unlimited_ = left_ == 0;
  }

  void on_data(std::string data) override {
    if (unlimited_) return ctx().emit(std::move(data));
    if (done_) return ctx().discard(data.size());
    if (static_cast<std::int64_t>(data.size()) < left_) {
      left_ -= static_cast<std::int64_t>(data.size());
      return ctx().emit(std::move(data));
    }
    ctx().discard(data.size() - static_cast<std::size_t>(left_));
    data.resize(static_cast<std::size_t>(left_));
    left_ = 0;
    done_ = true;
    if (!data.empty()) ctx().emit(std::move(data));
    ctx().close_link();
  }

 private:
  std::int64_t left_;
  bool unlimited_ = false;
  bool done_ = false;
};

}  // namespace

const ToxicKind& limit_data_kind() {
  static const ToxicKind kind{"limit_data",
                              {{"bytes", 0, 0, INT64_MAX}},
                              ToxicScope::stream,
                              [](const Attributes& a, ToxicContext& ctx) {
                                return std::make_unique<LimitDataToxic>(a, ctx);
                              }};
  return kind;
}

}  // namespace faultline::proxy
