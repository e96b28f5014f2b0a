#pragma once
// What the engine benchmarks check before they time anything: an engine and the twin it must
// agree with, and the agreement test. A benchmark whose engine disagrees reports an error
// instead of a time.
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "kernels/engine/engine.h"

namespace lowbit::bench {

struct Built {
  std::unique_ptr<kernels::InferenceEngine> engine;
  std::unique_ptr<kernels::InferenceEngine> twin;  // what the engine must agree with
  double tolerance = 0.0;                          // relative to the logits' scale; 0: bit for bit
};

// Whether `got` is within `tolerance` · (1 + max |want|) of `want` everywhere; with tolerance 0,
// whether the two are the same bits.
inline bool agrees(const std::vector<float>& got, const std::vector<float>& want,
                   double tolerance) {
  if (tolerance == 0.0) {
    return got.size() == want.size() &&
           std::memcmp(got.data(), want.data(), got.size() * sizeof(float)) == 0;
  }
  double scale = 0.0;
  for (float v : want) scale = std::max(scale, std::fabs(static_cast<double>(v)));
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (std::fabs(static_cast<double>(got[i]) - want[i]) > tolerance * (1.0 + scale)) return false;
  }
  return true;
}

// "784-128-10": a layer list as benchmark names spell it.
inline std::string sizes_name(const std::vector<int>& sizes) {
  std::string name;
  for (int size : sizes) name += (name.empty() ? "" : "-") + std::to_string(size);
  return name;
}

}  // namespace lowbit::bench
