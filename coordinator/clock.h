#pragma once
// The scheduler's only source of time. Leases expire by the clock, so tests pass a ManualClock
// and move it forward instead of sleeping.

#include <fmt/chrono.h>

#include <chrono>
#include <cstdint>
#include <ctime>
#include <functional>
#include <string>

namespace lowbit::coordinator {

using TimeMs = std::int64_t;  // milliseconds since the Unix epoch

using Clock = std::function<TimeMs()>;

// Wall-clock time: lease deadlines must survive a restart of the coordinator, which a monotonic
// clock's epoch does not.
inline Clock system_clock() {
  return [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
}

// How the API writes a time: ISO 8601 in UTC to the second, "2026-12-07T16:50:23Z".
inline std::string iso_utc(TimeMs ms) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", fmt::gmtime(static_cast<std::time_t>(ms / 1000)));
}

// A clock that moves only when told to.
struct ManualClock {
  TimeMs now = 1'700'000'000'000;  // a fixed, realistic epoch time
  void advance_ms(TimeMs ms) { now += ms; }
  void advance_s(double seconds) { now += static_cast<TimeMs>(seconds * 1000.0); }
  Clock clock() {
    return [this] { return now; };
  }
};

}  // namespace lowbit::coordinator
