#pragma once
// What the compute libraries say about themselves, and the one place that sets their thread
// count. Strings only, so kernels/ stays free of protocol/ types; the worker copies these into a
// result's `version` and `target` groups.

#include <string>

namespace lowbit::kernels {

// openblas_get_config() as it is: "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY USE_OPENMP
// Zen MAX_THREADS=64". Keep it for logs: it tells which build was loaded.
std::string openblas_config();

// The version number from the config string, "0.3.21"; the whole config if it has no version.
std::string openblas_version();

// The kernel set a DYNAMIC_ARCH build chose at load ("Zen", "Haswell", "Cooperlake").
// OPENBLAS_CORETYPE changes it only if set before the library is loaded.
std::string openblas_core();

// "openmp", "pthread" or "sequential": the threading the loaded OpenBLAS was built with. Only
// "openmp" shares one thread pool with oneDNN, whose Debian build runs on OpenMP
// (docs/openblas-threading.md).
std::string openblas_parallel_mode();

// "2.6.3".
std::string onednn_version();

// The ISA oneDNN generates code for, in oneDNN's lowercase names ("avx2", "avx512_core",
// "avx512_core_vnni", "avx512_core_bf16", "avx512_core_amx", ...). Lowered by
// ONEDNN_MAX_CPU_ISA / DNNL_MAX_CPU_ISA or dnnl::set_max_cpu_isa. Calling this fixes oneDNN's ISA
// for the rest of the process, so apply any cap first.
std::string onednn_effective_isa();

// Gives OpenBLAS and OpenMP (hence oneDNN) the same thread count; throws std::invalid_argument
// below 1. OpenMP's count belongs to the calling thread, and the OpenMP build of OpenBLAS re-reads
// it on every call, so call this on the thread that runs the kernels, not once at start-up on
// another thread.
void set_threads(int threads);

// OpenBLAS's thread count as seen from the calling thread.
int openblas_threads();

}  // namespace lowbit::kernels
