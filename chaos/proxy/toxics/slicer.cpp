// slicer: cuts every chunk into slices of average_size +/- size_variation bytes (drawn with the
// toxic's seeded Rng) and sends them `delay` microseconds apart.
#include <algorithm>

#include "chaos/proxy/toxic_kind.h"
#include "chaos/proxy/toxics/timed_queue.h"

namespace faultline::proxy {
namespace {

class SlicerToxic final : public Toxic {
 public:
  SlicerToxic(const Attributes& a, ToxicContext& ctx)
      : Toxic(ctx),
        average_(a.at("average_size")),
        variation_(a.at("size_variation")),
        delay_(a.at("delay")),
        queue_(ctx) {}

  void on_data(std::string data) override {
    TimePoint at = std::max(ctx().now(), queue_.last_due());
    std::size_t offset = 0;
    bool first = true;
    while (offset < data.size()) {
      std::int64_t size = average_;
      if (variation_ > 0) size += ctx().rng().uniform_signed(-variation_, variation_);
      const std::size_t n =
          std::min(static_cast<std::size_t>(std::max<std::int64_t>(size, 1)), data.size() - offset);
      if (!first) at += micros(delay_);
      first = false;
      queue_.push(at, data.substr(offset, n));
      offset += n;
    }
  }
  void on_eof() override { queue_.push_eof(); }
  void release() override { queue_.release(); }

 private:
  std::int64_t average_;
  std::int64_t variation_;
  std::int64_t delay_;
  TimedQueue queue_;
};

}  // namespace

const ToxicKind& slicer_kind() {
  static const ToxicKind kind{
      "slicer",
      {{"average_size", 1, 1, 1 << 30},
       {"size_variation", 0, 0, 1 << 30},
       {"delay", 0, 0, 60'000'000}},
      ToxicScope::stream,
      [](const Attributes& a, ToxicContext& ctx) { return std::make_unique<SlicerToxic>(a, ctx); }};
  return kind;
}

}  // namespace faultline::proxy
