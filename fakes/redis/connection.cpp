#include "fakes/redis/connection.h"

#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>

#include "harness/core/log.h"

namespace faultline::fakes::redis {

namespace asio = boost::asio;

void ServerCore::remove(std::uint64_t id) {
  const auto it = connections.find(id);
  if (it == connections.end()) return;
  const ClientInfo* info = &it->second->info();
  std::erase(state.clients, info);
  connections.erase(it);
}

Connection::Connection(Socket socket, ServerCore& core, std::uint64_t id, std::string addr,
                       std::string laddr)
    : socket_(std::move(socket)), core_(core) {
  info_.id = id;
  info_.addr = std::move(addr);
  info_.laddr = std::move(laddr);
  info_.created = core.clock.now();
  info_.last_command = info_.created;
  close_after_generation_ = core.state.faults.close_after_generation;
}

void Connection::start() {
  pump();
}

void Connection::close() {
  if (closed_) return;
  closed_ = true;
  if (latency_timer_) core_.clock.cancel(*latency_timer_);
  boost::system::error_code ignored;
  socket_.close(ignored);
  core_.remove(info_.id);  // may drop the last owner but one: `self` in the running handler
}

void Connection::resume() {
  if (closed_ || !held_ || latency_timer_) return;
  blocked_ = false;
  pump();
}

void Connection::pump() {
  if (closed_) return;
  process();
  if (closed_) return;
  flush();
  if (writing_ || !out_.empty()) return;
  if (close_after_reply_ || (eof_ && !blocked_)) {
    close();
    return;
  }
  if (!blocked_ && !reading_) start_read();
}

void Connection::process() {
  while (!blocked_ && !close_after_reply_ && !closed_) {
    if (held_) {
      auto argv = std::move(*held_);
      held_.reset();
      handle(std::move(argv), held_delay_served_);
      continue;
    }
    std::vector<std::string> argv;
    std::string error;
    const auto status = parser_.next(argv, error);
    if (status == RespParser::Status::kNeedMore) break;
    if (status == RespParser::Status::kError) {
      add_error(out_, "ERR " + error);
      close_after_reply_ = true;
      break;
    }
    handle(std::move(argv), false);
  }
}

void Connection::handle(std::vector<std::string> argv, bool delay_served) {
  const RedisFaultState& faults = core_.state.faults;
  if (faults.close_after) {
    if (close_after_generation_ != faults.close_after_generation) {
      close_after_generation_ = faults.close_after_generation;
      answered_ = 0;
    }
    if (answered_ >= *faults.close_after) {
      close();
      return;
    }
  }
  if (faults.paused) {
    held_ = std::move(argv);
    held_delay_served_ = delay_served;
    blocked_ = true;
    return;
  }
  if (!delay_served) {
    if (const auto delay = faults.latency_for(to_lower(argv[0]))) {
      held_ = std::move(argv);
      held_delay_served_ = true;
      blocked_ = true;
      std::weak_ptr<Connection> weak = weak_from_this();
      EventLoop* loop = &core_.loop;
      latency_timer_ = core_.clock.call_after(*delay, [weak, loop] {
        loop->post([weak] {
          if (auto self = weak.lock()) self->latency_elapsed();
        });
      });
      return;
    }
  }
  run(argv);
}

void Connection::latency_elapsed() {
  latency_timer_.reset();
  if (closed_) return;
  blocked_ = false;
  pump();
}

void Connection::run(const std::vector<std::string>& argv) {
  info_.last_command = core_.clock.now();
  CommandContext ctx{core_.state, core_.keyspace, info_, out_};
  execute_command(ctx, argv);
  if (ctx.close_after_reply) close_after_reply_ = true;
  ++answered_;
  const auto& limit = core_.state.faults.close_after;
  if (limit && close_after_generation_ == core_.state.faults.close_after_generation &&
      answered_ >= *limit) {
    close_after_reply_ = true;
  }
}

void Connection::flush() {
  if (writing_ || out_.empty()) return;
  writing_ = true;
  writing_buf_.clear();
  writing_buf_.swap(out_);
  auto self = shared_from_this();
  asio::async_write(socket_, asio::buffer(writing_buf_),
                    [self](const boost::system::error_code& ec, std::size_t) {
                      self->writing_ = false;
                      if (self->closed_) return;
                      if (ec) {
                        self->close();
                        return;
                      }
                      self->pump();
                    });
}

void Connection::start_read() {
  reading_ = true;
  auto self = shared_from_this();
  socket_.async_read_some(asio::buffer(read_buf_),
                          [self](const boost::system::error_code& ec, std::size_t n) {
                            self->reading_ = false;
                            if (self->closed_) return;
                            if (ec) {
                              if (ec == asio::error::eof) {
                                self->eof_ = true;
                                self->pump();
                              } else {
                                self->close();
                              }
                              return;
                            }
                            self->parser_.feed(std::string_view(self->read_buf_.data(), n));
                            if (self->parser_.buffered() > kMaxQueryBuffer) {
                              log::warn("redis-fake", "closing client over the query buffer limit",
                                        {{"client", self->info_.id}});
                              self->close();
                              return;
                            }
                            self->pump();
                          });
}

}  // namespace faultline::fakes::redis
