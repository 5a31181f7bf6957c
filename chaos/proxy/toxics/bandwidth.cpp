// bandwidth: lets data through at `rate` KB/s (1 KB = 1000 bytes, as Toxiproxy counts). Each
// piece leaves when the link would have finished sending it; chunks are cut into 10 ms pieces so
// a slow link trickles rather than bursts. rate 0 means no limit (as in Toxiproxy).
#include <algorithm>

#include "chaos/proxy/toxic_kind.h"
#include "chaos/proxy/toxics/timed_queue.h"

namespace faultline::proxy {
namespace {

class BandwidthToxic final : public Toxic {
 public:
  BandwidthToxic(const Attributes& a, ToxicContext& ctx)
      : Toxic(ctx), rate_(a.at("rate")), queue_(ctx) {}

  void on_data(std::string data) override {
    if (rate_ <= 0) {
      queue_.push(ctx().now(), std::move(data));
      return;
    }
    // rate KB/s == rate bytes per millisecond; a piece is what the link carries in 10 ms.
    const std::size_t piece = static_cast<std::size_t>(std::max<std::int64_t>(rate_ * 10, 1));
    TimePoint start = std::max(ctx().now(), queue_.last_due());
    std::size_t offset = 0;
    while (offset < data.size()) {
      const std::size_t n = std::min(piece, data.size() - offset);
      start += Duration(static_cast<std::int64_t>(n) * 1'000'000 / rate_);
      queue_.push(start, data.substr(offset, n));
      offset += n;
    }
  }
  void on_eof() override { queue_.push_eof(); }
  void release() override { queue_.release(); }

 private:
  std::int64_t rate_;
  TimedQueue queue_;
};

}  // namespace

const ToxicKind& bandwidth_kind() {
  static const ToxicKind kind{"bandwidth",
                              {{"rate", 0, 0, 100'000'000}},
                              ToxicScope::stream,
                              [](const Attributes& a, ToxicContext& ctx) {
                                return std::make_unique<BandwidthToxic>(a, ctx);
                              }};
  return kind;
}

}  // namespace faultline::proxy
