// The loss gradient and the backward pass against central finite differences.
// Everything runs on the reference GEMM (fp64 accumulation), so the only
// error is the finite-difference truncation O(h²) and float rounding of the
// perturbed forward pass; the tolerance allows for both.
#include <doctest/doctest.h>

#include <cmath>
#include <span>
#include <vector>

#include "kernels/base/random.h"
#include "kernels/train/backprop.h"
#include "kernels/train/loss.h"
#include "kernels/train/train.h"

using namespace lowbit::kernels;

namespace {

constexpr double kStep = 1e-3;
constexpr double kAbsTolerance = 2e-4;
constexpr double kRelTolerance = 2e-2;

double loss_of(const Mlp& model, const std::vector<float>& x, const std::vector<std::uint8_t>& y,
               int batch) {
  TrainingWorkspace ws;
  const float* logits = ws.forward(model, x.data(), batch, &sgemm_ref);
  std::vector<float> unused(static_cast<std::size_t>(batch * model.outputs()));
  return softmax_cross_entropy(logits, y.data(), batch, model.outputs(), unused.data());
}

void check_close(double analytic, double numeric) {
  CHECK(std::fabs(analytic - numeric) <= kAbsTolerance + kRelTolerance * std::fabs(numeric));
}

}  // namespace

TEST_CASE("loss: softmax cross-entropy gradient matches finite differences") {
  const std::uint64_t seed = 42;
  CAPTURE(seed);
  Rng rng(seed);
  const int batch = 3;
  const int classes = 5;
  std::vector<float> logits(batch * classes);
  for (float& z : logits) z = static_cast<float>(rng.normal() * 3.0);
  const std::vector<std::uint8_t> labels{0, 4, 2};
  std::vector<float> grad(logits.size());
  std::vector<float> scratch(logits.size());
  softmax_cross_entropy(logits.data(), labels.data(), batch, classes, grad.data());
  for (std::size_t i = 0; i < logits.size(); ++i) {
    CAPTURE(i);
    std::vector<float> plus = logits;
    std::vector<float> minus = logits;
    plus[i] += static_cast<float>(kStep);
    minus[i] -= static_cast<float>(kStep);
    const double numeric =
        (softmax_cross_entropy(plus.data(), labels.data(), batch, classes, scratch.data()) -
         softmax_cross_entropy(minus.data(), labels.data(), batch, classes, scratch.data())) /
        (static_cast<double>(plus[i]) - minus[i]);
    check_close(grad[i], numeric);
  }
}

TEST_CASE("loss: huge logits neither overflow nor lose the gradient") {
  const std::vector<float> logits{1000.0f, -1000.0f, 999.0f};
  const std::vector<std::uint8_t> labels{2};
  std::vector<float> grad(3);
  const double loss = softmax_cross_entropy(logits.data(), labels.data(), 1, 3, grad.data());
  CHECK(std::isfinite(loss));
  CHECK(loss == doctest::Approx(1.0 + std::log1p(std::exp(-1.0))).epsilon(1e-6));
  CHECK(grad[0] + grad[1] + grad[2] == doctest::Approx(0.0).epsilon(1e-6));
}

TEST_CASE("backprop: weight and bias gradients match finite differences") {
  const std::uint64_t seed = 7;
  CAPTURE(seed);
  Mlp model = init_mlp({6, 5, 4, 3}, seed);
  Rng rng(seed + 1);
  for (DenseLayer& layer : model.layers) {
    for (float& b : layer.bias) b = static_cast<float>(rng.normal() * 0.1);
  }
  const int batch = 4;
  std::vector<float> x(static_cast<std::size_t>(batch * 6));
  for (float& v : x) v = static_cast<float>(rng.normal());
  const std::vector<std::uint8_t> y{0, 2, 1, 2};

  TrainingWorkspace ws;
  const float* logits = ws.forward(model, x.data(), batch, &sgemm_ref);
  std::vector<float> dlogits(static_cast<std::size_t>(batch * 3));
  softmax_cross_entropy(logits, y.data(), batch, 3, dlogits.data());
  Gradients grads = Gradients::zeros_like(model);
  ws.backward(model, dlogits.data(), grads, &sgemm_ref);

  int checked = 0;
  for (std::size_t l = 0; l < model.layers.size(); ++l) {
    auto probe = [&](std::span<float> params, const std::vector<float>& analytic,
                     const char* what) {
      for (std::size_t i = 0; i < params.size(); ++i) {
        CAPTURE(l);
        CAPTURE(what);
        CAPTURE(i);
        const float saved = params[i];
        params[i] = saved + static_cast<float>(kStep);
        const double up = loss_of(model, x, y, batch);
        const double h_up = static_cast<double>(params[i]) - saved;
        params[i] = saved - static_cast<float>(kStep);
        const double down = loss_of(model, x, y, batch);
        const double h_down = static_cast<double>(saved) - params[i];
        params[i] = saved;
        check_close(analytic[i], (up - down) / (h_up + h_down));
        ++checked;
      }
    };
    probe(model.layers[l].weights, grads.weights[l], "weights");
    probe(model.layers[l].bias, grads.bias[l], "bias");
  }
  CHECK(checked == (6 * 5 + 5) + (5 * 4 + 4) + (4 * 3 + 3));
}

TEST_CASE("backprop: OpenBLAS and reference GEMM give the same gradients within float rounding") {
  Mlp model = init_mlp({30, 17, 5}, 3);
  Rng rng(4);
  const int batch = 9;
  std::vector<float> x(static_cast<std::size_t>(batch * 30));
  for (float& v : x) v = static_cast<float>(rng.normal());
  std::vector<std::uint8_t> y(batch);
  for (auto& label : y) label = static_cast<std::uint8_t>(rng.below(5));
  auto grads_with = [&](GemmFn gemm) {
    TrainingWorkspace ws;
    const float* logits = ws.forward(model, x.data(), batch, gemm);
    std::vector<float> d(static_cast<std::size_t>(batch * 5));
    softmax_cross_entropy(logits, y.data(), batch, 5, d.data());
    Gradients g = Gradients::zeros_like(model);
    ws.backward(model, d.data(), g, gemm);
    return g;
  };
  const Gradients a = grads_with(&sgemm_ref);
  const Gradients b = grads_with(&sgemm_openblas);
  for (std::size_t l = 0; l < a.weights.size(); ++l) {
    for (std::size_t i = 0; i < a.weights[l].size(); ++i) {
      CHECK(a.weights[l][i] == doctest::Approx(b.weights[l][i]).epsilon(1e-4).scale(1e-5));
    }
  }
}
