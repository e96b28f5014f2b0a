#pragma once
// What `lowbit coordinator` and `lowbit run` share when they serve the API:
// the --listen address and the lease reaper's pace.

#include <chrono>
#include <cstdint>
#include <string>

#include "coordinator/clock.h"

namespace lowbit::cli {

struct ListenAddress {
  std::string host;
  std::uint16_t port = 0;
};

// "HOST:PORT", the host an IPv4 or a bracketed IPv6 address, the port 0..65535 (0: a free one).
// Throws std::invalid_argument whose message starts with "--listen:".
ListenAddress parse_listen(const std::string& text);

// Reap often enough that a silent worker's job is requeued within about a quarter TTL.
std::chrono::milliseconds reap_interval(coordinator::TimeMs lease_ttl_ms);

}  // namespace lowbit::cli
