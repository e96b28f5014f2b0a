#pragma once
// IEEE 754 binary16 ("half") in software. The fp16 compute path stores its weights as halves
// (kernels/gemm/gemm_f32f16.h) and converts them to float with F16C inside the fast kernels; these
// functions are the portable, exact counterpart: the reference kernel converts with
// half_to_float, and the engine rounds its fp32 weights with float_to_half once, when it is built.
//
// What must stay true: both directions agree bit for bit with F16C (vcvtph2ps, and vcvtps2ph with
// round-to-nearest-even), NaNs included: a NaN keeps its sign and the top bits of its payload and
// comes out quiet. tests/kernels/gemm/test_fp16.cpp checks half_to_float on all 65536 patterns.

#include <cstdint>
#include <span>
#include <vector>

namespace lowbit::kernels {

// Exact: every half is a float. Subnormal halves become normal floats.
float half_to_float(std::uint16_t half);

// Round to nearest, ties to even. |x| ≥ 65520 (halfway between the largest half, 65504, and
// 2^16) becomes ±infinity; magnitudes below 2^-14 become subnormal halves, and those at or below
// 2^-25 become ±0.
std::uint16_t float_to_half(float x);

// Element-wise float_to_half.
std::vector<std::uint16_t> floats_to_halves(std::span<const float> src);

}  // namespace lowbit::kernels
