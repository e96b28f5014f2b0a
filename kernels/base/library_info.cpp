#include "kernels/base/library_info.h"

#include <cblas.h>
#include <fmt/format.h>
#include <omp.h>

#include <oneapi/dnnl/dnnl.hpp>
#include <stdexcept>
#include <string_view>

namespace lowbit::kernels {

namespace {

std::string from_c(const char* s) { return s == nullptr ? std::string() : std::string(s); }

}  // namespace

std::string openblas_config() { return from_c(openblas_get_config()); }

std::string openblas_version() {
  const std::string config = openblas_config();
  constexpr std::string_view kPrefix = "OpenBLAS ";
  if (!config.starts_with(kPrefix)) return config;
  const std::size_t begin = kPrefix.size();
  const std::size_t end = config.find(' ', begin);
  return config.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

std::string openblas_core() { return from_c(openblas_get_corename()); }

std::string openblas_parallel_mode() {
  switch (openblas_get_parallel()) {
    case OPENBLAS_SEQUENTIAL:
      return "sequential";
    case OPENBLAS_THREAD:
      return "pthread";
    case OPENBLAS_OPENMP:
      return "openmp";
    default:
      return fmt::format("unknown({})", openblas_get_parallel());
  }
}

std::string onednn_version() {
  const dnnl_version_t* v = dnnl_version();
  return fmt::format("{}.{}.{}", v->major, v->minor, v->patch);
}

std::string onednn_effective_isa() {
  using dnnl::cpu_isa;
  const cpu_isa isa = dnnl::get_effective_cpu_isa();
  switch (isa) {
    case cpu_isa::all:
      return "all";
    case cpu_isa::sse41:
      return "sse41";
    case cpu_isa::avx:
      return "avx";
    case cpu_isa::avx2:
      return "avx2";
    case cpu_isa::avx2_vnni:
      return "avx2_vnni";
    case cpu_isa::avx512_mic:
      return "avx512_mic";
    case cpu_isa::avx512_mic_4ops:
      return "avx512_mic_4ops";
    case cpu_isa::avx512_core:
      return "avx512_core";
    case cpu_isa::avx512_core_vnni:
      return "avx512_core_vnni";
    case cpu_isa::avx512_core_bf16:
      return "avx512_core_bf16";
    case cpu_isa::avx512_core_amx:
      return "avx512_core_amx";
  }
  // A newer oneDNN may add values; record the raw one rather than guess a name.
  return fmt::format("unknown(0x{:x})", static_cast<unsigned>(isa));
}

void set_threads(int threads) {
  if (threads < 1) {
    throw std::invalid_argument(fmt::format("threads must be at least 1, got {}", threads));
  }
  openblas_set_num_threads(threads);
  // The OpenMP build of OpenBLAS already does this, but a pthread or sequential OpenBLAS does
  // not, and oneDNN takes its count from OpenMP alone.
  omp_set_num_threads(threads);
}

int openblas_threads() { return openblas_get_num_threads(); }

}  // namespace lowbit::kernels
