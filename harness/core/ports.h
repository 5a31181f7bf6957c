// Ports on the loopback interface for servers a run starts.
//
// Thread safety: pick_free_port may be called from any thread.
#pragma once

#include <cstdint>

namespace faultline {

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, read back, released). A
// server started on it may still lose a race with another process; its own "address in use" then
// shows in its log and its health wait fails.
std::uint16_t pick_free_port();

}  // namespace faultline
