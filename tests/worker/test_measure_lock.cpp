// The host-wide measurement lock: exclusive across processes, released by the kernel when its
// holder is SIGKILLed — a killed worker must never leave the host's measurements blocked.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <optional>

#include "tests/support/subprocess.h"
#include "worker/measure_lock.h"

using lowbit::worker::MeasureLock;

TEST_CASE("measure lock: one holder at a time, even within one process") {
  lowbit::testing::TempDir dir("lowbit-lock");
  const std::string path = dir.path() + "/measure.lock";
  {
    MeasureLock held(path);
    CHECK_FALSE(MeasureLock::try_acquire(path).has_value());
  }
  CHECK(MeasureLock::try_acquire(path).has_value());  // released with its holder
}

TEST_CASE("measure lock: a SIGKILLed holder releases it") {
  lowbit::testing::TempDir dir("lowbit-lock");
  const std::string path = dir.path() + "/measure.lock";
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {  // never returns into the test runner
    try {
      MeasureLock held(path);
      const char byte = 1;
      (void)!::write(ready[1], &byte, 1);
      for (;;) ::pause();  // holds the lock until killed
    } catch (...) {
      ::_exit(1);
    }
  }
  ::close(ready[1]);
  char byte = 0;
  REQUIRE(::read(ready[0], &byte, 1) == 1);
  ::close(ready[0]);
  CHECK_FALSE(MeasureLock::try_acquire(path).has_value());
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  CHECK(WIFSIGNALED(status));
  CHECK(MeasureLock::try_acquire(path).has_value());
}

TEST_CASE("measure lock: an unusable path is an error naming it") {
  CHECK_THROWS_WITH_AS(MeasureLock("/nonexistent-dir/x.lock"),
                       doctest::Contains("/nonexistent-dir/x.lock"), std::runtime_error);
}
