#include "kernels/train/evaluate.h"

#include <stdexcept>

#include "kernels/train/loss.h"

namespace lowbit::kernels {

Evaluation evaluate(InferenceEngine& engine, const InputNormalization& norm, const ImageSet& images,
                    int batch) {
  Evaluation out;
  out.predictions.resize(static_cast<std::size_t>(images.count));
  out.correct.resize(static_cast<std::size_t>(images.count));
  const int features = images.features();
  std::vector<float> src(static_cast<std::size_t>(batch) * static_cast<std::size_t>(features));
  const int classes = engine.outputs();
  std::vector<float> logits(static_cast<std::size_t>(batch) * static_cast<std::size_t>(classes));
  int hits = 0;
  for (int first = 0; first < images.count; first += batch) {
    const int n = std::min(batch, images.count - first);
    normalize_images(norm, images.image(first), n, features, src.data());
    engine.forward(src.data(), n, logits.data());
    argmax_rows(logits.data(), n, classes, out.predictions.data() + first);
    for (int i = first; i < first + n; ++i) {
      const bool ok = out.predictions[static_cast<std::size_t>(i)] ==
                      images.labels[static_cast<std::size_t>(i)];
      out.correct[static_cast<std::size_t>(i)] = ok;
      hits += ok;
    }
  }
  out.top1 = images.count > 0 ? static_cast<double>(hits) / images.count : 0.0;
  return out;
}

double agreement(const std::vector<std::uint8_t>& a, const std::vector<std::uint8_t>& b) {
  if (a.size() != b.size())
    throw std::invalid_argument("agreement: prediction lists differ in length");
  if (a.empty()) return 0.0;
  std::size_t same = 0;
  for (std::size_t i = 0; i < a.size(); ++i) same += a[i] == b[i];
  return static_cast<double>(same) / static_cast<double>(a.size());
}

}  // namespace lowbit::kernels
