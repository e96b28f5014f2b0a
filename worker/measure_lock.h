#pragma once
// The host-wide measurement lock: latency phases of every lowbit process on a
// host take it, so two workers (or a worker and an `eval`) never time kernels on
// the same cores at once. Training and accuracy run outside it and may overlap.
// It is an flock(2) on a file: the kernel releases it when its holder exits or
// is killed, so a SIGKILLed worker never leaves it held.

#include <filesystem>
#include <optional>

namespace lowbit::worker {

// $LOWBIT_MEASURE_LOCK, else /tmp/lowbit-measure.lock: one path for every user
// of the host, since the cores are shared by all of them.
std::filesystem::path default_measure_lock_path();

class MeasureLock {
 public:
  // Blocks until the lock is held. Throws std::runtime_error naming the path when the file
  // cannot be opened or locked.
  explicit MeasureLock(const std::filesystem::path& path);
  // The lock if it is free now, else nothing (for tests and diagnostics).
  static std::optional<MeasureLock> try_acquire(const std::filesystem::path& path);
  ~MeasureLock();
  MeasureLock(MeasureLock&& other) noexcept;
  MeasureLock& operator=(MeasureLock&&) = delete;
  MeasureLock(const MeasureLock&) = delete;
  MeasureLock& operator=(const MeasureLock&) = delete;

  double waited_seconds() const { return waited_seconds_; }

 private:
  MeasureLock() = default;
  int fd_ = -1;
  double waited_seconds_ = 0.0;
};

}  // namespace lowbit::worker
