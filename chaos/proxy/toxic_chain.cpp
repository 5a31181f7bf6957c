#include "chaos/proxy/toxic_chain.h"

#include <set>

namespace faultline::proxy {

// One stage: a toxic and the context it sees. Owns the timers the toxic set, so that destroying
// the stage cancels them; a timer already handed to `dispatch` checks `alive_` before running.
class ToxicChain::Stage final : public ToxicContext {
 public:
  Stage(ToxicChain& chain, std::string name, Rng rng)
      : chain_(chain), name_(std::move(name)), rng_(rng), alive_(std::make_shared<char>(0)) {}
  ~Stage() override {
    toxic_.reset();  // its destructor may still cancel timers through us
    for (TimerId id : timers_) chain_.clock_.cancel(id);
  }

  const std::string& name() const { return name_; }
  Toxic& toxic() { return *toxic_; }
  void set_toxic(std::unique_ptr<Toxic> toxic) { toxic_ = std::move(toxic); }

  TimePoint now() const override { return chain_.clock_.now(); }
  TimerId after(Duration delay, std::function<void()> fn) override {
    auto id = std::make_shared<TimerId>(0);
    std::weak_ptr<char> alive = alive_;
    ToxicChain* chain = &chain_;
    auto fire = [this, alive, id, fn = std::move(fn)]() mutable {
      if (alive.expired()) return;          // the stage (and `this`) is gone
      if (timers_.erase(*id) == 0) return;  // cancelled meanwhile
      fn();
    };
    *id = chain_.clock_.call_after(
        delay < Duration::zero() ? Duration::zero() : delay,
        [chain_dispatch = chain->dispatch_, fire = std::move(fire)]() mutable {
          chain_dispatch(std::move(fire));
        });
    timers_.insert(*id);
    return *id;
  }
  void cancel(TimerId id) override {
    if (timers_.erase(id) != 0) chain_.clock_.cancel(id);
  }
  Rng& rng() override { return rng_; }
  void emit(std::string data) override { chain_.emit_after(this, std::move(data)); }
  void emit_eof() override { chain_.emit_eof_after(this); }
  void discard(std::size_t bytes) override { chain_.sink_.discarded(bytes); }
  void close_link() override { chain_.sink_.close_link(); }
  void reset_link() override { chain_.sink_.reset_link(); }

 private:
  ToxicChain& chain_;
  std::string name_;
  Rng rng_;
  std::shared_ptr<char> alive_;
  std::set<TimerId> timers_;
  std::unique_ptr<Toxic> toxic_;
};

ToxicChain::ToxicChain(Clock& clock, Dispatch dispatch, ChainSink& sink)
    : clock_(clock), dispatch_(std::move(dispatch)), sink_(sink) {}

ToxicChain::~ToxicChain() = default;

void ToxicChain::push(std::string data) {
  if (stages_.empty()) return sink_.write(std::move(data));
  stages_.front()->toxic().on_data(std::move(data));
}

void ToxicChain::push_eof() {
  if (stages_.empty()) return sink_.end();
  stages_.front()->toxic().on_eof();
}

void ToxicChain::emit_after(const Stage* stage, std::string data) {
  for (std::size_t i = 0; i < stages_.size(); ++i) {
    if (stages_[i].get() != stage) continue;
    if (i + 1 < stages_.size()) return stages_[i + 1]->toxic().on_data(std::move(data));
    return sink_.write(std::move(data));
  }
  // A stage being constructed or destroyed emits nowhere; count the bytes as dropped.
  sink_.discarded(data.size());
}

void ToxicChain::emit_eof_after(const Stage* stage) {
  for (std::size_t i = 0; i < stages_.size(); ++i) {
    if (stages_[i].get() != stage) continue;
    if (i + 1 < stages_.size()) return stages_[i + 1]->toxic().on_eof();
    return sink_.end();
  }
}

std::unique_ptr<ToxicChain::Stage> ToxicChain::make_stage(const std::string& name,
                                                          const ToxicKind& kind,
                                                          const Attributes& attributes, Rng rng) {
  auto stage = std::make_unique<Stage>(*this, name, rng);
  stage->set_toxic(kind.make(attributes, *stage));
  return stage;
}

void ToxicChain::add(const std::string& name, const ToxicKind& kind, const Attributes& attributes,
                     Rng rng) {
  stages_.push_back(make_stage(name, kind, attributes, rng));
}

std::size_t ToxicChain::index_of(const std::string& name) const {
  for (std::size_t i = 0; i < stages_.size(); ++i) {
    if (stages_[i]->name() == name) return i;
  }
  return stages_.size();
}

bool ToxicChain::has(const std::string& name) const {
  return index_of(name) < stages_.size();
}

bool ToxicChain::remove(const std::string& name) {
  const std::size_t i = index_of(name);
  if (i == stages_.size()) return false;
  stages_[i]->toxic().release();
  auto gone = std::move(stages_[i]);
  stages_.erase(stages_.begin() + static_cast<std::ptrdiff_t>(i));
  return true;
}

bool ToxicChain::replace(const std::string& name, const ToxicKind& kind,
                         const Attributes& attributes, Rng rng) {
  const std::size_t i = index_of(name);
  if (i == stages_.size()) return false;
  stages_[i]->toxic().release();
  stages_[i] = make_stage(name, kind, attributes, rng);
  return true;
}

void ToxicChain::clear() {
  while (!stages_.empty()) remove(stages_.front()->name());
}

}  // namespace faultline::proxy
