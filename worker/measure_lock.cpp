#include "worker/measure_lock.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace lowbit::worker {
namespace {

int open_lock_file(const std::filesystem::path& path) {
  // flock needs no write access: open an existing file read-only, so a lock file another user
  // created (0644 after their umask, or refused to O_CREAT in a sticky /tmp) still works.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0666);
    if (fd >= 0) ::fchmod(fd, 0666);  // every user of the host shares it, whatever our umask
  }
  if (fd < 0) {
    throw std::runtime_error(
        fmt::format("measure lock {}: cannot open: {}", path.string(), std::strerror(errno)));
  }
  return fd;
}

}  // namespace

std::filesystem::path default_measure_lock_path() {
  if (const char* env = std::getenv("LOWBIT_MEASURE_LOCK"); env != nullptr && *env != '\0')
    return env;
  return "/tmp/lowbit-measure.lock";
}

MeasureLock::MeasureLock(const std::filesystem::path& path) : fd_(open_lock_file(path)) {
  const auto start = std::chrono::steady_clock::now();
  while (::flock(fd_, LOCK_EX) != 0) {
    if (errno == EINTR) continue;  // a signal handler ran; keep waiting
    const int error = errno;
    ::close(fd_);
    throw std::runtime_error(
        fmt::format("measure lock {}: cannot lock: {}", path.string(), std::strerror(error)));
  }
  waited_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::optional<MeasureLock> MeasureLock::try_acquire(const std::filesystem::path& path) {
  MeasureLock lock;
  lock.fd_ = open_lock_file(path);
  if (::flock(lock.fd_, LOCK_EX | LOCK_NB) != 0) return std::nullopt;  // the destructor closes it
  return lock;
}

MeasureLock::~MeasureLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

MeasureLock::MeasureLock(MeasureLock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), waited_seconds_(other.waited_seconds_) {}

}  // namespace lowbit::worker
