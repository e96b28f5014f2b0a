// `--inject-slowdown F[:CONFIG_HASH]`: what the worker accepts, and the reason it gives for what
// it refuses (the CLI turns that into exit 2 naming the flag).

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

#include "worker/job_runner.h"

using lowbit::worker::parse_injected_slowdown;

TEST_CASE("inject-slowdown: a factor alone applies to every job, with a hash to one") {
  const auto every = parse_injected_slowdown("0.15");
  CHECK(every.factor == doctest::Approx(0.15));
  CHECK(every.config_hash.empty());
  const auto one = parse_injected_slowdown("0.1:95e34cd290ed8a6f");
  CHECK(one.factor == doctest::Approx(0.1));
  CHECK(one.config_hash == "95e34cd290ed8a6f");
}

TEST_CASE("inject-slowdown: a bad factor or hash is refused, saying which part") {
  for (const char* text : {"", "0", "-0.1", "11", "x", "0.1x", "nan"}) {
    CAPTURE(text);
    try {
      parse_injected_slowdown(text);
      FAIL("accepted");
    } catch (const std::invalid_argument& e) {
      CHECK(std::string(e.what()).find("factor") != std::string::npos);
    }
  }
  for (const char* text :
       {"0.1:", "0.1:95E34CD290ED8A6F", "0.1:95e34cd2", "0.1:95e34cd290ed8a6fz"}) {
    CAPTURE(text);
    try {
      parse_injected_slowdown(text);
      FAIL("accepted");
    } catch (const std::invalid_argument& e) {
      CHECK(std::string(e.what()).find("config hash") != std::string::npos);
    }
  }
}
