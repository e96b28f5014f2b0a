#include "kernels/engine/engine_sparse.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <stdexcept>

#include "kernels/engine/layer_chain.h"
#include "kernels/gemm/sparse_csr.h"

namespace lowbit::kernels {

namespace {

struct CsrLayer {
  CsrMatrix weights;
  std::vector<float> bias;
  int outputs = 0;  // weights.rows
};

class SparseEngine final : public InferenceEngine {
 public:
  SparseEngine(const Mlp& model, const CsrKernel& kernel) : kernel_(kernel) {
    for (const DenseLayer& layer : model.layers) {
      layers_.push_back(
          {CsrMatrix::from_dense(layer.weights.data(), layer.outputs, layer.inputs, layer.inputs),
           layer.bias, layer.outputs});
    }
  }

  void forward(const float* src, int batch, float* logits) override {
    forward_float_layers(std::span<const CsrLayer>(layers_), src, batch, logits, scratch_,
                         [&](const CsrLayer& layer, const float* in, float* out) {
                           SpmmArgs args;
                           args.batch = batch;
                           args.src = in;
                           args.ld_src = layer.weights.cols;
                           args.weights = &layer.weights;
                           args.dst = out;
                           args.ld_dst = layer.weights.rows;
                           args.scratch = &spmm_scratch_;
                           kernel_.run(args);
                         });
  }

  int inputs() const override { return layers_.front().weights.cols; }
  int outputs() const override { return layers_.back().weights.rows; }
  std::string kernel() const override {
    return std::string(kernel_.path == std::string("ref") ? "ref/" : "lowbit/") + kernel_.name;
  }

  std::vector<LayerKernel> layers() const override {
    std::vector<LayerKernel> out;
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      const CsrMatrix& w = layers_[l].weights;
      const double dense = static_cast<double>(w.rows) * w.cols;
      out.push_back(
          {kernel(),
           fmt::format("csr+bias{} nnz={} density={:.4f}", l + 1 == layers_.size() ? "" : "+relu",
                       w.nnz(), dense > 0 ? static_cast<double>(w.nnz()) / dense : 0.0)});
    }
    return out;
  }

  std::int64_t model_bytes() const override {
    std::int64_t bytes = 0;
    for (const CsrLayer& layer : layers_) {
      bytes += layer.weights.bytes() + static_cast<std::int64_t>(layer.bias.size() * sizeof(float));
    }
    return bytes;
  }

 private:
  const CsrKernel& kernel_;
  std::vector<CsrLayer> layers_;
  PingPong<float> scratch_;
  SpmmScratch spmm_scratch_;
};

// Break-even weight density of the sparse engine against OpenBLAS sgemm (one thread): below
// it, sparse is faster. Measured on this project's 2-core AMD EPYC (Zen, AVX2, 512 KiB L2;
// OpenBLAS 0.3.21 Zen kernels, OpenMP build) with
//   build/bench/bench_sparse --benchmark_min_time=0.05 --benchmark_repetitions=3
// which prints the break-even sparsity (1 − density) per shape and batch, from the fastest of
// the repetitions. Two runs on the shared machine (load average 2 and 5):
//                    batch 1        batch 64       batch 1024
//   784→128 layer     0.824 0.862    0.600 0.672    0.708 ≤0.50
//   512→256 layer     0.801 0.874    0.641 ≤0.50    0.592 0.612
//   784-128-10 model  0.910 0.858    0.581 0.622    0.589 0.624
// (the first run predates the multi-chain narrow panels, which only changed batches 2..63).
// Single figures move by several hundredths between runs, so the table takes about the least
// favourable, rounded towards dense, and sparse is only chosen where it wins clearly: density
// 0.10 at batch 1, 0.35 at 64 and 1024. A model's density is weighted by layer size, so the
// large first layer decides, as it does the time.
struct BreakEven {
  int batch;
  double density;
};
constexpr BreakEven kBreakEven[] = {{1, 0.10}, {64, 0.35}, {1024, 0.35}};

}  // namespace

std::unique_ptr<InferenceEngine> make_fp32_sparse_engine(const Mlp& model, const std::string& path,
                                                         const std::string& isa_cap) {
  if (model.layers.empty()) throw std::invalid_argument("model: has no layers");
  return std::make_unique<SparseEngine>(model, find_csr_kernel(path, isa_cap));
}

double sparse_break_even_density(int batch) {
  if (batch < 1) throw std::invalid_argument(fmt::format("batch: must be ≥ 1, got {}", batch));
  const auto* first = std::begin(kBreakEven);
  const auto* last = std::end(kBreakEven) - 1;
  if (batch <= first->batch) return first->density;
  if (batch >= last->batch) return last->density;
  const auto* upper =
      std::find_if(first, last + 1, [batch](const BreakEven& b) { return b.batch >= batch; });
  const auto* lower = upper - 1;
  const double t = std::log(static_cast<double>(batch) / lower->batch) /
                   std::log(static_cast<double>(upper->batch) / lower->batch);
  return lower->density + t * (upper->density - lower->density);
}

bool sparse_is_faster(const Mlp& model, int batch) {
  const std::int64_t dense = model.weight_count();
  if (dense == 0) return false;
  const double density = static_cast<double>(model.nonzero_weights()) / static_cast<double>(dense);
  return density < sparse_break_even_density(batch);
}

}  // namespace lowbit::kernels
