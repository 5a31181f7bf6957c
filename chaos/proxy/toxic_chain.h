// ToxicChain: the toxics of one direction of one link, in order, between a reader and a sink.
//
// The reader pushes what it read; each stage is a Toxic whose output goes to the next stage, and
// the last stage's output goes to the ChainSink (the socket writer in a link, a recorder in tests).
// Stages are added and removed while data flows, as in Toxiproxy: a removed toxic first releases
// what it holds to the stage after it, so nothing is lost or reordered by healing. The chain knows
// nothing about sockets; timers go through the Clock and come back through `dispatch`, which runs
// them on the chain's thread (the proxy posts them to its EventLoop; tests with a ManualClock run
// them inline).
//
// Thread safety: none. Everything, including destruction, happens on the chain's thread. A timer
// that fires after its stage is gone does nothing.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "chaos/proxy/toxic_kind.h"
#include "harness/core/clock.h"
#include "harness/core/rng.h"

namespace faultline::proxy {

// Where a chain's output goes, and how its toxics end the link.
class ChainSink {
 public:
  virtual ~ChainSink() = default;
  virtual void write(std::string data) = 0;
  virtual void end() = 0;                         // end of stream (FIN)
  virtual void discarded(std::size_t bytes) = 0;  // bytes a toxic dropped
  virtual void close_link() = 0;                  // must not destroy the chain synchronously
  virtual void reset_link() = 0;                  // likewise
};

class ToxicChain {
 public:
  using Dispatch = std::function<void(std::function<void()>)>;

  ToxicChain(Clock& clock, Dispatch dispatch, ChainSink& sink);
  ~ToxicChain();
  ToxicChain(const ToxicChain&) = delete;
  ToxicChain& operator=(const ToxicChain&) = delete;

  void push(std::string data);
  void push_eof();

  // Appends a stage named `name` running a toxic of `kind`; `rng` is the toxic's own stream.
  void add(const std::string& name, const ToxicKind& kind, const Attributes& attributes, Rng rng);
  // Releases the stage's held data to the next stage, then removes it. False if there is none.
  bool remove(const std::string& name);
  // Replaces the toxic of stage `name` (releasing the old one's data first). False if none.
  bool replace(const std::string& name, const ToxicKind& kind, const Attributes& attributes,
               Rng rng);
  // Releases and removes every stage.
  void clear();

  bool empty() const { return stages_.empty(); }
  std::size_t size() const { return stages_.size(); }
  bool has(const std::string& name) const;

 private:
  class Stage;
  friend class Stage;
  void emit_after(const Stage* stage, std::string data);
  void emit_eof_after(const Stage* stage);
  std::size_t index_of(const std::string& name) const;
  std::unique_ptr<Stage> make_stage(const std::string& name, const ToxicKind& kind,
                                    const Attributes& attributes, Rng rng);

  Clock& clock_;
  Dispatch dispatch_;
  ChainSink& sink_;
  std::vector<std::unique_ptr<Stage>> stages_;
};

}  // namespace faultline::proxy
