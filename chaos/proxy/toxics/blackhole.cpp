// blackhole (ours): drops all data in both directions and keeps the connections open — a network
// partition as the two peers see it. Whatever its `stream`, it sits in both chains. Data dropped
// while it was there is gone after it is removed, as it would be on a real partition; an
// end of stream is held and delivered on removal.
#include "chaos/proxy/toxic_kind.h"

namespace faultline::proxy {
namespace {

class BlackholeToxic final : public Toxic {
 public:
  using Toxic::Toxic;
  void on_data(std::string data) override { ctx().discard(data.size()); }
  // A partition carries no FIN either; it arrives once the partition heals.
  void on_eof() override { eof_ = true; }
  void release() override {
    if (eof_) ctx().emit_eof();
    eof_ = false;
  }

 private:
  bool eof_ = false;
};

}  // namespace

const ToxicKind& blackhole_kind() {
  static const ToxicKind kind{
      "blackhole", {}, ToxicScope::both_streams, [](const Attributes&, ToxicContext& ctx) {
        return std::make_unique<BlackholeToxic>(ctx);
      }};
  return kind;
}

}  // namespace faultline::proxy
