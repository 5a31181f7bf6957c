// Toxic: one kind of damage done to one direction of a proxied TCP connection.
//
// A toxic sits in a ToxicChain (one per direction of a link). Bytes arrive as chunks through
// `on_data`, the end of the stream through `on_eof`; the toxic hands what it lets through to the
// next stage with `ToxicContext::emit` / `emit_eof`, now or later from a timer. It never sees a
// socket, so every toxic can be driven by a test with a ManualClock and a recording sink.
//
// The framework owns everything around the toxic: it parses and range-checks the attributes
// (ToxicKind, toxic_kind.h), rolls the `toxicity` dice for each link with a seeded Rng (a toxic
// that lost the roll is never constructed for that link), and, when the toxic is removed from a
// live link, calls `release()` so that data the toxic holds goes on, in order, to the next stage.
//
// Thread safety: none. A toxic and its context are used from one thread — the thread of the chain
// (the proxy's EventLoop thread; the test thread with a ManualClock). Timer callbacks registered
// through the context run on that thread too and never after the toxic is destroyed.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include "harness/core/clock.h"
#include "harness/core/rng.h"

namespace faultline::proxy {

// Toxiproxy's names: `upstream` is client -> server, `downstream` is server -> client.
enum class StreamDirection { upstream, downstream };
const char* to_string(StreamDirection d);

// What a toxic can see and do. Implemented by ToxicChain for each stage.
class ToxicContext {
 public:
  virtual ~ToxicContext() = default;

  virtual TimePoint now() const = 0;
  // Runs `fn` on the chain's thread after `delay`, unless cancelled or the toxic is gone first.
  virtual TimerId after(Duration delay, std::function<void()> fn) = 0;
  virtual void cancel(TimerId id) = 0;
  // This toxic's own stream of chance for this link (jitter, slice sizes).
  virtual Rng& rng() = 0;

  // Passes data / the end of the stream to the next stage.
  virtual void emit(std::string data) = 0;
  virtual void emit_eof() = 0;
  // Data the toxic threw away (so the link stops counting it as in flight).
  virtual void discard(std::size_t bytes) = 0;
  // Ends the whole link: with FIN on both sides, or with RST on both sides.
  virtual void close_link() = 0;
  virtual void reset_link() = 0;
};

class Toxic {
 public:
  explicit Toxic(ToxicContext& ctx) : ctx_(ctx) {}
  virtual ~Toxic() = default;
  Toxic(const Toxic&) = delete;
  Toxic& operator=(const Toxic&) = delete;

  virtual void on_data(std::string data) = 0;
  virtual void on_eof() { ctx_.emit_eof(); }
  // The toxic is being removed from a live link: emit what it holds, in order (an EOF it held
  // included). Its timers are cancelled by the chain afterwards.
  virtual void release() {}

 protected:
  ToxicContext& ctx() { return ctx_; }

 private:
  ToxicContext& ctx_;
};

}  // namespace faultline::proxy
