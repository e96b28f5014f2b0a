#include "worker/quant_request.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace lowbit::worker {

kernels::QuantSpec to_quant_spec(const protocol::EvalConfig& config) {
  const protocol::QuantOptions& q = config.quant;
  kernels::QuantSpec spec;
  spec.bits = config.bits;
  spec.scheme = kernels::parse_quant_scheme(q.scheme);
  spec.granularity = kernels::parse_quant_granularity(q.granularity);
  if (q.activations != "static" && q.activations != "dynamic") {
    throw std::invalid_argument(
        fmt::format("activations must be static or dynamic, not \"{}\"", q.activations));
  }
  spec.static_activations = q.activations == "static";
  spec.calibration = kernels::parse_calibration(q.calibration);
  if (q.calibration_samples < 1) {
    throw std::invalid_argument(
        fmt::format("calibration_samples must be at least 1, not {}", q.calibration_samples));
  }
  spec.calibration_samples = q.calibration_samples;
  if (!(q.percentile >= 50.0 && q.percentile <= 100.0)) {
    throw std::invalid_argument(
        fmt::format("percentile must be in [50, 100], not {}", q.percentile));
  }
  spec.percentile = q.percentile;
  if (q.group_size != 32 && q.group_size != 64 && q.group_size != 128) {
    throw std::invalid_argument(
        fmt::format("group_size must be 32, 64 or 128, not {}", q.group_size));
  }
  return spec;
}

CalibrationImages calibration_images(const kernels::ImageSet& fit,
                                     const kernels::InputNormalization& normalization,
                                     int samples) {
  CalibrationImages out;
  const int count = std::min(samples, fit.count);
  const int features = fit.features();
  out.values.resize(static_cast<std::size_t>(count) * static_cast<std::size_t>(features));
  kernels::normalize_images(normalization, fit.pixels.data(), count, features, out.values.data());
  out.set = {out.values.data(), count, features};
  return out;
}

}  // namespace lowbit::worker
