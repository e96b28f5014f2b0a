#pragma once
// The machine's state around a measurement: date, host, load, frequency
// scaling, threads. Read at the start and the end, so a result measured while
// the machine was busy says so.

#include "protocol/result.h"

namespace lowbit::worker {

struct LoadSnapshot {
  std::vector<double> load_avg;  // 1, 5, 15 minutes
};

LoadSnapshot snapshot_load();

// Fills every Context field except the peaks and the measured MHz.
protocol::Context detect_context(const LoadSnapshot& start, const LoadSnapshot& end);

// Threads of this process (entries of /proc/self/task).
int os_thread_count();

}  // namespace lowbit::worker
