// The results table and the Pareto listing as a person reads them: aligned columns (code points,
// not bytes), one latency column per batch size, skipped rows with their reason.
#include <doctest/doctest.h>

#include <sstream>

#include "cli/results_table.h"
#include "cli/text_table.h"

using namespace lowbit;

namespace {

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

}  // namespace

TEST_CASE("text table: columns sized by code points; numbers right-aligned") {
  cli::TextTable t({{"name"}, {"Δ", cli::TextTable::Align::kRight}});
  t.add_row({"µs-long-name", "+0.1"});
  t.add_row({"x", "-12.25"});
  std::ostringstream out;
  t.print(out);
  const auto l = lines(out.str());
  REQUIRE(l.size() == 3);
  CHECK(l[0] == "name               Δ");
  CHECK(l[1] == "µs-long-name    +0.1");
  CHECK(l[2] == "x             -12.25");
  CHECK_THROWS_AS(t.add_row({"a", "b", "c"}), std::invalid_argument);
}

TEST_CASE("results table: a row per result, a latency column per batch, skips with their reason") {
  protocol::Result fp32;
  fp32.target.label = "native-t1";
  fp32.accuracy = protocol::Accuracy{0.8914, 0.8914, 0.0, 1.0, 10000, ""};
  fp32.kernel = "openblas/Zen/sgemm";
  fp32.model_bytes = 407080;
  fp32.latency = {{}, {}};
  fp32.latency[0].batch = 1;
  fp32.latency[0].median_us = 6.97;
  fp32.latency[1].batch = 64;
  fp32.latency[1].median_us = 248.0;
  fp32.latency[1].noisy = true;
  protocol::Result bf16;
  bf16.config.precision = "bf16";
  bf16.target.label = "native-t1";
  bf16.status = protocol::kStatusSkipped;
  bf16.reason = "bf16 needs AVX512_CORE";
  std::ostringstream out;
  cli::print_results_table(out, {fp32, bf16});
  const auto l = lines(out.str());
  REQUIRE(l.size() >= 3);
  CHECK(l[0].find("b1 µs") != std::string::npos);
  CHECK(l[0].find("b64 µs") != std::string::npos);
  CHECK(l[1].find("0.8914") != std::string::npos);
  CHECK(l[1].find("397.5 KiB") != std::string::npos);
  CHECK(l[1].find("6.97") != std::string::npos);
  CHECK(l[1].find("248.0~") != std::string::npos);
  CHECK(l[2].find("skipped") != std::string::npos);
  CHECK(l[2].find("bf16 needs AVX512_CORE") != std::string::npos);

  std::ostringstream front;
  cli::print_pareto_fronts(front, protocol::pareto_fronts({fp32, bf16}));
  CHECK(front.str().find("Pareto front, batch 1") != std::string::npos);
  CHECK(front.str().find("Pareto front, batch 64") != std::string::npos);
  CHECK(front.str().find("bf16") == std::string::npos);
}
