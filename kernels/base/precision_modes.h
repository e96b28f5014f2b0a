#pragma once
// The bits × precision table: which weight bit widths each compute precision
// takes. A contract shared by `lowbit eval`, the sweep expansion and the
// engine registry. It is the one kernels header the protocol may include
// (CMake target lowbit_precision, header-only): the sweep expansion skips a
// grid point for exactly the reasons the registry would refuse it.
//
//   precision            bits    what runs
//   fp32, bf16, fp16     32      the float kernel
//   fp32, bf16, fp16     2..8    the float kernel on quantize-dequantized weights ("simulated")
//   int8, fixed          2..8    integer kernels, weights at b bits in an int8 container
//   int4                 2..4    packed sub-byte kernels
//   mixed                2..8    a per-layer policy; b is the lowest width it may use

#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <vector>

namespace lowbit::kernels {

// The modes `lowbit eval` can run today, in the order the CLI lists them.
inline const std::vector<std::string>& precision_modes() {
  static const std::vector<std::string> modes{"fp32", "bf16",  "fp16", "int8",
                                              "int4", "fixed", "mixed"};
  return modes;
}

// Every mode of the table, including those whose kernels do not exist yet.
inline const std::vector<std::string>& all_precision_modes() {
  static const std::vector<std::string> modes{"fp32", "bf16",  "fp16", "int8",
                                              "int4", "fixed", "mixed"};
  return modes;
}

inline bool is_float_precision(const std::string& precision) {
  return precision == "fp32" || precision == "bf16" || precision == "fp16";
}

// Why `precision` cannot take `bits`-bit weights ("int8 needs bits ≤ 8"), or
// empty when the table allows it. Unknown precisions and bit widths outside
// {2..8, 32} are reasons too.
inline std::string unsupported_combination(const std::string& precision, int bits) {
  const auto& all = all_precision_modes();
  if (std::find(all.begin(), all.end(), precision) == all.end()) {
    return fmt::format("unknown precision \"{}\"", precision);
  }
  if (bits != 32 && (bits < 2 || bits > 8)) {
    return fmt::format("bits must be 2..8 or 32, not {}", bits);
  }
  if (is_float_precision(precision)) return {};
  if (precision == "int4" && bits > 4) return fmt::format("int4 needs bits ≤ 4, not {}", bits);
  if (bits == 32)
    return fmt::format("{} needs bits ≤ 8 (32 means no integer quantization)", precision);
  return {};
}

}  // namespace lowbit::kernels
