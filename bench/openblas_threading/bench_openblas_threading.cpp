// OpenBLAS's OpenMP build against its pthread build, next to oneDNN (which runs on OpenMP).
//
// One source, two executables (bench/openblas_threading/CMakeLists.txt):
//   build/bench/bench_openblas_threading_openmp   links openblas-openmp/libopenblas.so
//   build/bench/bench_openblas_threading_pthread  links openblas-pthread/libopenblas.so.0
// Both keep their OpenBLAS by RPATH; the label of every benchmark prints openblas_get_config()
// and openblas_get_parallel() (1 = pthreads, 2 = OpenMP) so the output shows which one ran.
//
// Shape: the first layer of our 784-128-10 MLP at batch 1024, C[M][N] = A[M][K] · W[N][K]^T,
// M = 1024, N = 128, K = 784, f32, row-major, weights stored [out][in] (so B is transposed).
//
// Benchmarks, each for T in {1, 2} (openblas_set_num_threads(T) and omp_set_num_threads(T)):
//   sgemm_alone/threads:T        cblas_sgemm only
//   sgemm_then_onednn/threads:T  cblas_sgemm then a oneDNN f32 matmul of the same shape, per
//                                iteration: what a worker mixing fp32 (OpenBLAS) and int8/bf16
//                                (oneDNN) layers does. With the pthread build, two thread pools
//                                (OpenBLAS's pthreads and libgomp's) spin against each other.
//   onednn_alone/threads:T       the oneDNN matmul only, for reference
// Real time per iteration; the CPU column is the CPU time of all threads of the process
// (MeasureProcessCPUTime), so it shows spinning. Every benchmark checks its answer before timing
// (see check_against()). See docs/openblas-threading.md for the method and the figures.
#include <benchmark/benchmark.h>
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <vector>

namespace {

constexpr int kM = 1024;  // batch
constexpr int kN = 128;   // output features
constexpr int kK = 784;   // input features

// Deterministic inputs in [-1, 1) (splitmix64), the same on every platform.
std::vector<float> uniform(std::size_t count, std::uint64_t seed) {
  std::vector<float> v(count);
  std::uint64_t state = seed;
  for (float& x : v) {
    state += 0x9E3779B97F4A7C15ULL;
    std::uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    x = static_cast<float>(static_cast<double>(z >> 40) * 0x1.0p-23 - 1.0);
  }
  return v;
}

// Everything both libraries read, and what they must produce.
struct Problem {
  std::vector<float> a = uniform(static_cast<std::size_t>(kM) * kK, 1);  // [M][K]
  std::vector<float> w = uniform(static_cast<std::size_t>(kN) * kK, 2);  // [N][K]
  // Per element of C: the bound on |computed - exact| for one f32 dot product of length K,
  // gamma_K * sum_k |a_mk * w_nk| with gamma_K ~ K * 2^-24 (unit roundoff of f32). Any summation
  // order (blocked, FMA) stays inside it. Two results may then differ by twice this; and as
  // sum |terms| <= K * max |terms| this is at most K^2 * 2^-24 * max |terms|.
  std::vector<double> bound;
  std::vector<double> exact;  // the product in double
  Problem() : bound(static_cast<std::size_t>(kM) * kN), exact(bound.size()) {
    for (int m = 0; m < kM; ++m) {
      for (int n = 0; n < kN; ++n) {
        double sum = 0.0;
        double abs_sum = 0.0;
        for (int k = 0; k < kK; ++k) {
          const double term = static_cast<double>(a[static_cast<std::size_t>(m) * kK + k]) *
                              static_cast<double>(w[static_cast<std::size_t>(n) * kK + k]);
          sum += term;
          abs_sum += std::fabs(term);
        }
        const std::size_t i = static_cast<std::size_t>(m) * kN + n;
        exact[i] = sum;
        bound[i] = static_cast<double>(kK) * 0x1.0p-24 * abs_sum;
      }
    }
  }
};

const Problem& problem() {
  static const Problem p;
  return p;
}

void set_threads(int threads) {
  openblas_set_num_threads(threads);
  omp_set_num_threads(threads);
}

void run_sgemm(const Problem& p, float* c) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, kM, kN, kK, 1.0f, p.a.data(), kK, p.w.data(),
              kK, 0.0f, c, kN);
}

// The oneDNN side. The matmul primitive is created after omp_set_num_threads(), once per thread
// count: oneDNN 2.x fixes the thread count of an OpenMP primitive when it is created.
class OneDnnMatmul {
 public:
  explicit OneDnnMatmul(const Problem& p) : p_(p) {}

  void run(int threads, float* c) {
    auto found = primitives_.find(threads);
    if (found == primitives_.end()) {
      const dnnl::matmul::desc desc(src_md_, wei_md_, dst_md_);
      const dnnl::matmul::primitive_desc pd(desc, engine_);
      found = primitives_.emplace(threads, Entry{dnnl::matmul(pd), pd.impl_info_str()}).first;
    }
    // oneDNN's memory wraps the caller's buffer; it does not write to src or weights.
    const dnnl::memory src(src_md_, engine_, const_cast<float*>(p_.a.data()));
    const dnnl::memory wei(wei_md_, engine_, const_cast<float*>(p_.w.data()));
    const dnnl::memory dst(dst_md_, engine_, c);
    found->second.primitive.execute(
        stream_, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, dst}});
    stream_.wait();
  }

  std::string impl(int threads) const {
    const auto found = primitives_.find(threads);
    return found == primitives_.end() ? std::string("?") : found->second.impl;
  }

 private:
  struct Entry {
    dnnl::matmul primitive;
    std::string impl;
  };
  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  const Problem& p_;
  const dnnl::memory::desc src_md_{{kM, kK}, dt::f32, tag::ab};
  // W is [N][K]: the K x N weights matrix stored transposed, i.e. format "ba".
  const dnnl::memory::desc wei_md_{{kK, kN}, dt::f32, tag::ba};
  const dnnl::memory::desc dst_md_{{kM, kN}, dt::f32, tag::ab};
  dnnl::engine engine_{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream_{engine_};
  std::map<int, Entry> primitives_;
};

OneDnnMatmul& onednn() {
  static OneDnnMatmul m(problem());
  return m;
}

// Largest |x - y| / (scale * bound) over C; <= 1 means the two agree.
double worst_ratio(const std::vector<float>& x, const std::vector<double>& y, double scale) {
  const Problem& p = problem();
  double worst = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double ratio = std::fabs(static_cast<double>(x[i]) - y[i]) / (scale * p.bound[i]);
    worst = std::max(worst, ratio);
  }
  return worst;
}

std::vector<double> widen(const std::vector<float>& x) {
  return std::vector<double>(x.begin(), x.end());
}

// Computed once, at one thread: the two libraries' answers, compared to each other (they may
// differ by 2 * bound) and each to the double product (bound). error is nullptr if all agree.
struct Baseline {
  std::vector<float> blas = std::vector<float>(static_cast<std::size_t>(kM) * kN);
  std::vector<float> dnnl = std::vector<float>(static_cast<std::size_t>(kM) * kN);
  const char* error = nullptr;
  Baseline() {
    set_threads(1);
    run_sgemm(problem(), blas.data());
    onednn().run(1, dnnl.data());
    if (worst_ratio(blas, widen(dnnl), 2.0) > 1.0) {
      error = "OpenBLAS and oneDNN disagree beyond 2*K*2^-24*sum|terms|";
    } else if (worst_ratio(blas, problem().exact, 1.0) > 1.0) {
      error = "OpenBLAS disagrees with the double product beyond K*2^-24*sum|terms|";
    } else if (worst_ratio(dnnl, problem().exact, 1.0) > 1.0) {
      error = "oneDNN disagrees with the double product beyond K*2^-24*sum|terms|";
    }
  }
};

const Baseline& baseline() {
  static const Baseline b;
  return b;
}

// Before timing, at the benchmark's thread count: what it computes against the other library's
// answer (2 * bound).
bool check_against(benchmark::State& state, const std::vector<float>& got,
                   const std::vector<float>& other, const char* message) {
  if (baseline().error != nullptr) {
    state.SkipWithError(baseline().error);
    return false;
  }
  if (worst_ratio(got, widen(other), 2.0) > 1.0) {
    state.SkipWithError(message);
    return false;
  }
  return true;
}

enum class Work { kSgemm, kSgemmThenOneDnn, kOneDnn };

void BM_threading(benchmark::State& state, Work work, int threads) {
  const Problem& p = problem();
  const Baseline& base = baseline();  // before set_threads: it runs at one thread
  if (openblas_get_parallel() != LOWBIT_EXPECT_OPENBLAS_PARALLEL) {
    state.SkipWithError("the OpenBLAS loaded is not the variant this binary was linked against");
    return;
  }
  set_threads(threads);
  std::vector<float> c_blas(static_cast<std::size_t>(kM) * kN);
  std::vector<float> c_dnnl(c_blas.size());
  const bool do_blas = work != Work::kOneDnn;
  const bool do_dnnl = work != Work::kSgemm;
  if (do_blas) {
    run_sgemm(p, c_blas.data());
    if (!check_against(state, c_blas, base.dnnl, "OpenBLAS disagrees with oneDNN")) return;
  }
  if (do_dnnl) {
    onednn().run(threads, c_dnnl.data());
    if (!check_against(state, c_dnnl, base.blas, "oneDNN disagrees with OpenBLAS")) return;
  }
  for (auto _ : state) {
    if (do_blas) {
      run_sgemm(p, c_blas.data());
      benchmark::DoNotOptimize(c_blas.data());
    }
    if (do_dnnl) {
      onednn().run(threads, c_dnnl.data());
      benchmark::DoNotOptimize(c_dnnl.data());
    }
    benchmark::ClobberMemory();
  }
  const double flops = 2.0 * kM * kN * kK * ((do_blas ? 1 : 0) + (do_dnnl ? 1 : 0));
  state.counters["GFLOPS"] =
      benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["threads"] = threads;
  state.counters["openblas_threads"] = openblas_get_num_threads();
  state.counters["omp_threads"] = omp_get_max_threads();
  std::string label = openblas_get_config();
  label += " parallel=" + std::to_string(openblas_get_parallel());
  if (do_dnnl) label += " dnnl=" + onednn().impl(threads);
  state.SetLabel(label);
}

const bool registered = [] {
  const struct {
    const char* name;
    Work work;
  } cases[] = {{"sgemm_alone", Work::kSgemm},
               {"sgemm_then_onednn", Work::kSgemmThenOneDnn},
               {"onednn_alone", Work::kOneDnn}};
  for (const auto& c : cases) {
    for (int threads : {1, 2}) {
      const std::string name = std::string(c.name) + "/threads:" + std::to_string(threads);
      benchmark::RegisterBenchmark(name.c_str(), BM_threading, c.work, threads)
          ->UseRealTime()
          ->MeasureProcessCPUTime()
          ->Unit(benchmark::kMillisecond);
    }
  }
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
