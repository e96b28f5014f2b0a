// The sparse compute path: CSR construction, every CSR kernel against the reference and against
// the dense reference GEMM on seeded random and edge-case inputs, and the sparse engine against
// the dense fp32 engine on a pruned model.
//
// Tolerance (derived, per element). The reference sums the row's nonzero products in double and
// rounds once; sgemm_ref does the same over every k, and the zeros it adds are exact, so both
// oracles differ from the exact sum by at most u · Σ|w·x| plus a double error far below it. The
// AVX2 kernel forms every product inside an FMA (exact there) and sums a row's n nonzeros in
// float, in lanes, then across lanes and with the scalar tail: each term passes through at most
// n + 3 roundings, so its error is within γ_{n+3} · Σ_k |w_k · x_k| (Higham, Accuracy and
// Stability, §3.1), with γ_j = j·u / (1 − j·u) and u = 2⁻²⁴. We allow γ_{n+4} · Σ|w·x| (one more
// for the oracle's final rounding) and, as random rounding errors grow like √n, also require the
// mean error to sit far below the mean bound.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/base/random.h"
#include "kernels/engine/engine_fp32.h"
#include "kernels/engine/engine_sparse.h"
#include "kernels/gemm/gemm.h"
#include "kernels/gemm/sparse_csr.h"
#include "kernels/prune/prune.h"
#include "kernels/train/train.h"

using namespace lowbit::kernels;

namespace {

constexpr double kUnitRoundoff = 0x1.0p-24;

double gamma(int roundings) {
  const double nu = roundings * kUnitRoundoff;
  return nu / (1.0 - nu);
}

std::size_t at(int row, int ld) {
  return static_cast<std::size_t>(row) * static_cast<std::size_t>(ld);
}

// rows × cols (leading dimension ld) with about `density` of the entries nonzero, normal values.
std::vector<float> random_sparse(int rows, int cols, int ld, double density, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<float> w(at(rows, ld), 0.0f);
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      if (rng.uniform() < density)
        w[at(r, ld) + static_cast<std::size_t>(c)] = static_cast<float>(rng.normal());
    }
  }
  return w;
}

std::vector<float> random_normal(std::size_t count, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<float> x(count);
  for (float& v : x) v = static_cast<float>(rng.normal());
  return x;
}

struct Problem {
  int batch;
  int rows;
  int cols;
  double density;
  int ld_extra;  // added to every leading dimension: strides past the logical width
};

// Runs `kernel` and the two oracles on one problem and checks the bound element by element.
void check_kernel(const CsrKernel& kernel, const Problem& p, std::uint64_t seed) {
  CAPTURE(kernel.name);
  CAPTURE(seed);
  CAPTURE(p.batch);
  CAPTURE(p.rows);
  CAPTURE(p.cols);
  CAPTURE(p.density);
  const int ld_w = p.cols + p.ld_extra;
  const int ld_src = p.cols + p.ld_extra;
  const int ld_dst = p.rows + p.ld_extra;
  const std::vector<float> dense = random_sparse(p.rows, p.cols, ld_w, p.density, seed);
  const CsrMatrix csr = CsrMatrix::from_dense(dense.data(), p.rows, p.cols, ld_w);
  const std::vector<float> src = random_normal(at(p.batch, ld_src), seed + 1);
  // NaN sentinels: every dst element must be written, the padding past each row never.
  std::vector<float> got(at(p.batch, ld_dst), std::nanf(""));
  std::vector<float> want(got.size(), std::nanf(""));
  std::vector<float> dense_want(got.size(), 0.0f);
  SpmmScratch scratch;
  kernel.run({p.batch, src.data(), ld_src, &csr, got.data(), ld_dst, &scratch});
  spmm_csr_ref({p.batch, src.data(), ld_src, &csr, want.data(), ld_dst, nullptr});
  GemmArgs args;
  args.shape = {p.batch, p.rows, p.cols};
  args.trans_b = Transpose::kYes;
  args.a = src.data();
  args.lda = ld_src;
  args.b = dense.data();
  args.ldb = ld_w;
  args.c = dense_want.data();
  args.ldc = ld_dst;
  if (p.batch > 0 && p.rows > 0) sgemm_ref(args);

  double error_sum = 0.0;
  double bound_sum = 0.0;
  int failures = 0;
  for (int b = 0; b < p.batch; ++b) {
    for (int o = 0; o < p.rows; ++o) {
      const std::size_t i = at(b, ld_dst) + static_cast<std::size_t>(o);
      double magnitude = 0.0;
      for (std::int32_t j = csr.row_ptr[static_cast<std::size_t>(o)];
           j < csr.row_ptr[static_cast<std::size_t>(o) + 1]; ++j) {
        magnitude += std::fabs(static_cast<double>(csr.values[static_cast<std::size_t>(j)]) *
                               src[at(b, ld_src) + static_cast<std::size_t>(
                                                       csr.col_idx[static_cast<std::size_t>(j)])]);
      }
      const int n =
          csr.row_ptr[static_cast<std::size_t>(o) + 1] - csr.row_ptr[static_cast<std::size_t>(o)];
      const double bound = gamma(n + 4) * magnitude;
      const double error = std::fabs(static_cast<double>(got[i]) - want[i]);
      const double dense_error = std::fabs(static_cast<double>(got[i]) - dense_want[i]);
      error_sum += error;
      bound_sum += bound;
      if (!(error <= bound) || !(dense_error <= bound)) {
        if (++failures <= 5) {
          CAPTURE(b);
          CAPTURE(o);
          CHECK(error <= bound);
          CHECK(dense_error <= bound);
        }
      }
    }
    // The padding past the last output of each dst row stays untouched.
    for (int e = 0; e < p.ld_extra; ++e)
      CHECK(std::isnan(got[at(b, ld_dst) + static_cast<std::size_t>(p.rows + e)]));
  }
  CHECK(failures == 0);
  if (bound_sum > 0.0) CHECK(error_sum <= 0.25 * bound_sum);
}

std::vector<const CsrKernel*> runnable_kernels() {
  std::vector<const CsrKernel*> out;
  for (const CsrKernel& k : csr_kernels()) {
    if (k.cpu_supports()) out.push_back(&k);
  }
  return out;
}

Mlp pruned_random_model(const std::vector<int>& sizes, double ratio, std::uint64_t seed) {
  Mlp model = init_mlp(sizes, seed);
  Rng rng(seed + 7);
  for (DenseLayer& layer : model.layers) {
    for (float& b : layer.bias) b = static_cast<float>(0.1 * rng.normal());
  }
  return prune_model(model, PruneSpec{PruneMethod::kMagnitude, ratio, {}}).model;
}

// Per-logit bound on |sparse engine − dense reference engine| for one image, propagated through
// the layers in double: a layer's output differs by what its inputs already differed, carried
// through |W|, plus its own rounding — γ_{n+6} · (Σ|w|·(|a| + err) + |bias|) for a row of n
// nonzeros: n + 3 roundings in the kernel's float sum (see the top of the file), one in the
// oracle's, one bias addition in each engine. ReLU never widens a difference.
std::vector<double> forward_error_bound(const Mlp& model, const float* image) {
  std::vector<double> activation(image, image + model.inputs());
  std::vector<double> error(activation.size(), 0.0);
  for (std::size_t l = 0; l < model.layers.size(); ++l) {
    const DenseLayer& layer = model.layers[l];
    std::vector<double> next(static_cast<std::size_t>(layer.outputs));
    std::vector<double> next_error(next.size());
    for (int o = 0; o < layer.outputs; ++o) {
      double z = layer.bias[static_cast<std::size_t>(o)];
      double carried = 0.0;
      double magnitude = std::fabs(z);
      int n = 0;
      for (int i = 0; i < layer.inputs; ++i) {
        const double w = layer.weights[at(o, layer.inputs) + static_cast<std::size_t>(i)];
        if (w == 0.0) continue;
        ++n;
        z += w * activation[static_cast<std::size_t>(i)];
        carried += std::fabs(w) * error[static_cast<std::size_t>(i)];
        magnitude += std::fabs(w) * (std::fabs(activation[static_cast<std::size_t>(i)]) +
                                     error[static_cast<std::size_t>(i)]);
      }
      const bool relu = l + 1 < model.layers.size();
      next[static_cast<std::size_t>(o)] = relu ? std::max(z, 0.0) : z;
      next_error[static_cast<std::size_t>(o)] = carried + gamma(n + 6) * magnitude;
    }
    activation = std::move(next);
    error = std::move(next_error);
  }
  return error;
}

}  // namespace

TEST_CASE("csr: from_dense keeps exactly the nonzeros, row by row, and counts its bytes") {
  const float dense[] = {0.0f,  1.5f, 0.0f, -0.0f,  // −0 is a zero too
                         0.0f,  0.0f, 0.0f, 0.0f,   // an empty row
                         -2.0f, 0.0f, 3.0f, 4.0f};
  const CsrMatrix csr = CsrMatrix::from_dense(dense, 3, 4, 4);
  CHECK(csr.rows == 3);
  CHECK(csr.cols == 4);
  CHECK(csr.row_ptr == std::vector<std::int32_t>{0, 1, 1, 4});
  CHECK(csr.col_idx == std::vector<std::int32_t>{1, 0, 2, 3});
  CHECK(csr.values == std::vector<float>{1.5f, -2.0f, 3.0f, 4.0f});
  CHECK(csr.nnz() == 4);
  CHECK(csr.bytes() == 4 * 4 + 4 * 4 + 4 * 4);  // values, column indices, row pointers
  CHECK_THROWS_WITH_AS(CsrMatrix::from_dense(dense, 3, 4, 3), doctest::Contains("ld"),
                       std::invalid_argument);
}

TEST_CASE("csr: every kernel matches the reference and the dense GEMM on random problems") {
  const auto kernels = runnable_kernels();
  REQUIRE(kernels.size() >= 1);
  // Fail when nothing ran: this machine is expected to run the AVX2 kernel.
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) REQUIRE(kernels.size() == 2);
  const Problem problems[] = {
      {1, 128, 784, 0.1, 0},    {2, 128, 784, 0.5, 0},   {3, 37, 45, 0.3, 3},
      {4, 16, 64, 0.2, 0},      {5, 10, 128, 0.5, 1},    {8, 33, 17, 0.9, 0},
      {63, 20, 100, 0.05, 2},   {64, 128, 784, 0.1, 0},  {65, 19, 23, 0.4, 0},
      {130, 256, 512, 0.02, 0}, {200, 7, 9000, 0.01, 0},
  };
  std::uint64_t seed = 100;
  for (const CsrKernel* kernel : kernels) {
    for (const Problem& p : problems) check_kernel(*kernel, p, ++seed);
  }
}

TEST_CASE("csr: edge cases — empty rows, all-zero matrix, one nonzero, N = 1, short and odd K") {
  std::uint64_t seed = 500;
  for (const CsrKernel* kernel : runnable_kernels()) {
    for (int batch : {0, 1, 2, 3, 4, 7, 8, 9, 64, 71}) {
      const Problem edge[] = {
          {batch, 12, 40, 0.0, 0},   // all-zero matrix: every output 0
          {batch, 12, 40, 0.02, 1},  // mostly empty rows
          {batch, 1, 1, 1.0, 0},     // one weight
          {batch, 1, 300, 0.5, 0},   // N = 1
          {batch, 9, 7, 1.0, 2},     // K below a vector, fully dense
          {batch, 9, 8, 1.0, 0},     // K one vector
          {batch, 9, 9, 1.0, 0},     // K just past a vector
          {batch, 5, 0, 0.0, 0},     // K = 0
      };
      for (const Problem& p : edge) check_kernel(*kernel, p, ++seed);
    }
    // Exactly one nonzero in the whole matrix.
    std::vector<float> dense(6 * 10, 0.0f);
    dense[3 * 10 + 7] = -1.25f;
    const CsrMatrix one = CsrMatrix::from_dense(dense.data(), 6, 10, 10);
    for (int batch : {1, 5, 64}) {
      CAPTURE(batch);
      const std::vector<float> src = random_normal(at(batch, 10), 9);
      std::vector<float> dst(at(batch, 6), std::nanf(""));
      kernel->run({batch, src.data(), 10, &one, dst.data(), 6, nullptr});
      for (int b = 0; b < batch; ++b) {
        for (int o = 0; o < 6; ++o) {
          // One product: exact in every kernel.
          CHECK(dst[at(b, 6) + static_cast<std::size_t>(o)] ==
                (o == 3 ? -1.25f * src[at(b, 10) + 7] : 0.0f));
        }
      }
    }
  }
}

TEST_CASE("csr: kernel selection honours the ISA cap and refuses unknown paths") {
  CHECK(std::string(select_csr_kernel("sse41").path) == "ref");
  CHECK(std::string(find_csr_kernel("ref").name) == "csr");
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    CHECK(std::string(select_csr_kernel().path) == "avx2");
    CHECK_THROWS_WITH_AS(find_csr_kernel("avx2", "avx"), doctest::Contains("needs ISA cap avx2"),
                         lowbit::kernels::EngineUnavailable);
  }
  CHECK_THROWS_WITH_AS(find_csr_kernel("avx9"), doctest::Contains("no sparse kernel path \"avx9\""),
                       std::invalid_argument);
}

TEST_CASE("engine_sparse: same logits as the dense fp32 reference on a pruned model") {
  const Mlp model = pruned_random_model({784, 64, 32, 10}, 0.9, 3);
  auto oracle = make_fp32_reference_engine(model);
  for (const std::string path : {"ref", "auto"}) {
    auto engine = make_fp32_sparse_engine(model, path);
    CAPTURE(engine->kernel());
    for (int batch : {1, 5, 64}) {
      CAPTURE(batch);
      const std::vector<float> src = random_normal(at(batch, 784), 11);
      std::vector<float> got(at(batch, 10));
      std::vector<float> want(got.size());
      engine->forward(src.data(), batch, got.data());
      oracle->forward(src.data(), batch, want.data());
      for (int b = 0; b < batch; ++b) {
        const std::vector<double> bound = forward_error_bound(model, src.data() + at(b, 784));
        for (int o = 0; o < 10; ++o) {
          const std::size_t i = at(b, 10) + static_cast<std::size_t>(o);
          CHECK(std::fabs(static_cast<double>(got[i]) - want[i]) <=
                bound[static_cast<std::size_t>(o)]);
        }
      }
    }
    CHECK(engine->inputs() == 784);
    CHECK(engine->outputs() == 10);
    REQUIRE(engine->layers().size() == 3);
  }
  // model_bytes: CSR values + column indices (4 bytes each per nonzero), row pointers, biases.
  auto engine = make_fp32_sparse_engine(model);
  const std::int64_t nnz = model.nonzero_weights();
  CHECK(engine->model_bytes() == nnz * 8 + (65 + 33 + 11) * 4 + (64 + 32 + 10) * 4);
  CHECK(make_fp32_sparse_engine(model, "ref")->kernel() == "ref/csr");
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    CHECK(engine->kernel() == "lowbit/csr_avx2");
  }
  CHECK_THROWS_AS(make_fp32_sparse_engine(model, "bogus"), std::invalid_argument);
}

TEST_CASE("engine_sparse: the break-even rule prefers sparse only for sparse enough models") {
  const Mlp dense = init_mlp({784, 128, 10}, 1);
  const Mlp very_sparse = pruned_random_model({784, 128, 10}, 0.99, 1);
  for (int batch : {1, 64, 1024}) {
    CAPTURE(batch);
    CHECK_FALSE(sparse_is_faster(dense, batch));
    CHECK(sparse_is_faster(very_sparse, batch));
    const double d = sparse_break_even_density(batch);
    CHECK(d > 0.0);
    CHECK(d < 1.0);
  }
  CHECK_THROWS_AS(sparse_break_even_density(0), std::invalid_argument);
}
