// Tests for the model artifact file (kernels/model_file): a bit-exact round
// trip, deterministic bytes and content hash, and a ModelFileError with a
// useful message for every damaged file.

#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "kernels/base/random.h"
#include "kernels/model/model_file.h"
#include "kernels/train/model_cache.h"
#include "kernels/train/train.h"
#include "tests/support/subprocess.h"

namespace {

namespace fs = std::filesystem;
using lowbit::kernels::content_hash;
using lowbit::kernels::deserialize_model;
using lowbit::kernels::ModelArtifact;
using lowbit::kernels::ModelFileError;
using lowbit::kernels::Rng;
using lowbit::kernels::serialize_model;
using Bytes = std::vector<std::uint8_t>;

using lowbit::testing::TempDir;

// A model built without training: He-initialized weights, seeded non-zero
// biases, a normalization and predictions that are not round numbers.
ModelArtifact make_artifact(const std::vector<int>& layers, std::uint64_t seed,
                            std::size_t predictions = 50) {
  ModelArtifact a;
  a.model = lowbit::kernels::init_mlp(layers, seed);
  Rng rng(seed ^ 0xb1a5ULL);
  for (auto& layer : a.model.layers) {
    for (float& b : layer.bias) b = static_cast<float>(rng.normal() * 0.1);
  }
  a.model.normalization = {0.2860402f, 0.3530239f};
  lowbit::kernels::TrainSpec spec;
  spec.layers = layers;
  spec.seed = seed;
  a.training = lowbit::kernels::to_json(spec);
  a.data_hash = "0123456789abcdef";
  a.test_top1 = 0.8731;
  a.validation_top1 = 1.0 / 3.0;
  const auto classes = static_cast<std::uint64_t>(layers.back());
  a.test_predictions.resize(predictions);
  for (auto& p : a.test_predictions) p = static_cast<std::uint8_t>(rng.below(classes));
  return a;
}

std::vector<std::uint32_t> bits(std::span<const float> v) {
  std::vector<std::uint32_t> out(v.size());
  std::transform(v.begin(), v.end(), out.begin(),
                 [](float f) { return std::bit_cast<std::uint32_t>(f); });
  return out;
}

void check_identical(const ModelArtifact& a, const ModelArtifact& b) {
  REQUIRE(a.model.layers.size() == b.model.layers.size());
  for (std::size_t l = 0; l < a.model.layers.size(); ++l) {
    CAPTURE(l);
    CHECK(a.model.layers[l].inputs == b.model.layers[l].inputs);
    CHECK(a.model.layers[l].outputs == b.model.layers[l].outputs);
    CHECK(bits(a.model.layers[l].weights) == bits(b.model.layers[l].weights));
    CHECK(bits(a.model.layers[l].bias) == bits(b.model.layers[l].bias));
  }
  CHECK(std::bit_cast<std::uint32_t>(a.model.normalization.mean) ==
        std::bit_cast<std::uint32_t>(b.model.normalization.mean));
  CHECK(std::bit_cast<std::uint32_t>(a.model.normalization.stddev) ==
        std::bit_cast<std::uint32_t>(b.model.normalization.stddev));
  CHECK(a.test_predictions == b.test_predictions);
  CHECK(a.training == b.training);
  CHECK(a.training.dump() == b.training.dump());
  CHECK(a.data_hash == b.data_hash);
  CHECK(std::bit_cast<std::uint64_t>(a.test_top1) == std::bit_cast<std::uint64_t>(b.test_top1));
  CHECK(std::bit_cast<std::uint64_t>(a.validation_top1) ==
        std::bit_cast<std::uint64_t>(b.validation_top1));
}

bool is_hex(const std::string& s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Replaces the first `from` in the bytes by `to` (same length, so every
// offset in the file stays valid).
Bytes replace_once(Bytes bytes, const std::string& from, const std::string& to) {
  REQUIRE(from.size() == to.size());
  const auto it = std::search(bytes.begin(), bytes.end(), from.begin(), from.end());
  INFO("looking for " << from);
  REQUIRE(it != bytes.end());
  std::copy(to.begin(), to.end(), it);
  return bytes;
}

// Runs `f`, which must throw ModelFileError; returns its message.
template <typename F>
std::string model_error_message(F&& f) {
  try {
    f();
  } catch (const ModelFileError& e) {
    return e.what();
  } catch (const std::exception& e) {
    const std::string got =
        std::string("expected a ModelFileError, got another exception: ") + e.what();
    FAIL_CHECK(got);
    return "";
  }
  FAIL_CHECK("expected a ModelFileError, nothing was thrown");
  return "";
}

struct Layout {
  std::size_t header_length = 0;
  std::size_t payload_start = 0;
  nlohmann::json header;
};

// Reads the layout documented in model_file.h, independently of the reader.
Layout layout_of(const Bytes& bytes) {
  Layout out;
  REQUIRE(bytes.size() >= 12);
  CHECK(std::memcmp(bytes.data(), "LOWBITM\n", 8) == 0);
  out.header_length = std::size_t{bytes[8]} | (std::size_t{bytes[9]} << 8) |
                      (std::size_t{bytes[10]} << 16) | (std::size_t{bytes[11]} << 24);
  REQUIRE(12 + out.header_length <= bytes.size());
  out.header = nlohmann::json::parse(
      bytes.begin() + 12, bytes.begin() + static_cast<std::ptrdiff_t>(12 + out.header_length));
  out.payload_start = (12 + out.header_length + 63) / 64 * 64;
  return out;
}

// The same file with another header: the payload is moved to the new,
// 64-byte-aligned payload start, as serialize_model would place it.
Bytes with_header(const Bytes& good, const nlohmann::json& header) {
  const Layout old = layout_of(good);
  const std::string text = header.dump();
  const std::size_t payload_start = (12 + text.size() + 63) / 64 * 64;
  Bytes out(payload_start, 0);
  std::memcpy(out.data(), "LOWBITM\n", 8);
  const auto length = static_cast<std::uint32_t>(text.size());
  for (int i = 0; i < 4; ++i)
    out[8 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(length >> (8 * i));
  std::memcpy(out.data() + 12, text.data(), text.size());
  out.insert(out.end(), good.begin() + static_cast<std::ptrdiff_t>(old.payload_start), good.end());
  return out;
}

constexpr std::uint64_t kSeed = 7;

}  // namespace

TEST_CASE("model file: serialize then deserialize is bit-identical") {
  for (const std::vector<int>& layers : {std::vector<int>{20, 7, 3}, std::vector<int>{784, 32, 10},
                                         std::vector<int>{5, 1}, std::vector<int>{9, 8, 7, 6}}) {
    for (std::uint64_t seed : {kSeed, std::uint64_t{0}, ~std::uint64_t{0}}) {
      CAPTURE(seed);
      CAPTURE(lowbit::kernels::format_layer_sizes(layers));
      const ModelArtifact a = make_artifact(layers, seed);
      const Bytes bytes = serialize_model(a);
      const ModelArtifact b = deserialize_model(bytes, "round.lbm");
      check_identical(a, b);
      CHECK(b.model.layer_sizes() == layers);
    }
  }
}

TEST_CASE("model file: the layout matches the documented format") {
  CAPTURE(kSeed);
  const ModelArtifact a = make_artifact({20, 7, 3}, kSeed);
  const Bytes bytes = serialize_model(a);
  const Layout layout = layout_of(bytes);
  CHECK(layout.header.at("format") == "lowbit-model");
  CHECK(layout.header.at("format_version") == lowbit::kernels::kModelFormatVersion);
  CHECK(layout.header.at("layers") == nlohmann::json({20, 7, 3}));
  CHECK(bytes.size() % 64 == 0);
  // Padding between header and payload is zero.
  for (std::size_t i = 12 + layout.header_length; i < layout.payload_start; ++i) {
    CAPTURE(i);
    CHECK(bytes[i] == 0);
  }
  // Each tensor sits 64-byte aligned at its recorded offset, little-endian.
  const auto& table = layout.header.at("tensors");
  REQUIRE(table.size() == 5);
  for (const auto& t : table) {
    CAPTURE(t.dump());
    CHECK(t.at("offset").get<std::size_t>() % 64 == 0);
  }
  const std::size_t w1 = layout.payload_start + table[2].at("offset").get<std::size_t>();
  CHECK(table[2].at("name") == "layers.1.weight");
  CHECK(table[2].at("shape") == nlohmann::json({3, 7}));
  float first = 0.0f;
  std::memcpy(&first, bytes.data() + w1, sizeof(first));
  CHECK(std::bit_cast<std::uint32_t>(first) ==
        std::bit_cast<std::uint32_t>(a.model.layers[1].weights[0]));
  const std::size_t p = layout.payload_start + table[4].at("offset").get<std::size_t>();
  CHECK(table[4].at("name") == "test_predictions");
  CHECK(Bytes(bytes.begin() + static_cast<std::ptrdiff_t>(p),
              bytes.begin() + static_cast<std::ptrdiff_t>(p + a.test_predictions.size())) ==
        a.test_predictions);
}

TEST_CASE("model file: bytes and content hash are deterministic") {
  CAPTURE(kSeed);
  const ModelArtifact a = make_artifact({784, 32, 10}, kSeed);
  const Bytes first = serialize_model(a);
  const Bytes second = serialize_model(a);
  CHECK(first == second);
  // An equal artifact built separately gives the same bytes.
  CHECK(serialize_model(make_artifact({784, 32, 10}, kSeed)) == first);
  const std::string hash = content_hash(first);
  CHECK(hash.size() == 32);
  CHECK(is_hex(hash));
  CHECK(content_hash(second) == hash);
  // Re-serializing the deserialized artifact gives the same bytes.
  const ModelArtifact back = deserialize_model(first, "det.lbm");
  CHECK(serialize_model(back) == first);
  // Another seed is another model.
  CHECK(content_hash(serialize_model(make_artifact({784, 32, 10}, kSeed + 1))) != hash);
}

TEST_CASE("model file: content hash changes when one weight moves by one ulp") {
  CAPTURE(kSeed);
  const ModelArtifact a = make_artifact({20, 7, 3}, kSeed);
  const std::string hash = content_hash(serialize_model(a));
  // First, middle and last weight of each layer, both directions, and one bias.
  for (std::size_t l = 0; l < a.model.layers.size(); ++l) {
    const std::size_t n = a.model.layers[l].weights.size();
    for (std::size_t i : {std::size_t{0}, n / 2, n - 1}) {
      for (float toward : {INFINITY, -INFINITY}) {
        CAPTURE(l);
        CAPTURE(i);
        CAPTURE(toward);
        ModelArtifact b = a;
        float& w = b.model.layers[l].weights[i];
        w = std::nextafter(w, toward);
        CHECK(content_hash(serialize_model(b)) != hash);
      }
    }
  }
  ModelArtifact b = a;
  b.model.layers.back().bias.back() = std::nextafter(b.model.layers.back().bias.back(), INFINITY);
  CHECK(content_hash(serialize_model(b)) != hash);
  ModelArtifact c = a;
  c.test_predictions.back() = static_cast<std::uint8_t>((c.test_predictions.back() + 1) % 3);
  CHECK(content_hash(serialize_model(c)) != hash);
  ModelArtifact d = a;
  d.model.normalization.stddev = std::nextafter(d.model.normalization.stddev, 0.0f);
  CHECK(content_hash(serialize_model(d)) != hash);
  // Also the hash of a one-bit change of raw bytes.
  Bytes bytes = serialize_model(a);
  bytes[bytes.size() / 2] ^= 1;
  CHECK(content_hash(bytes) != hash);
}

TEST_CASE("model file: an artifact without predictions round-trips") {
  CAPTURE(kSeed);
  const ModelArtifact a = make_artifact({20, 7, 3}, kSeed, 0);
  const Bytes bytes = serialize_model(a);
  const ModelArtifact b = deserialize_model(bytes, "empty.lbm");
  check_identical(a, b);
  CHECK(b.test_predictions.empty());
}

TEST_CASE("model file: a bad magic throws ModelFileError naming the file") {
  CAPTURE(kSeed);
  const Bytes good = serialize_model(make_artifact({20, 7, 3}, kSeed));
  for (std::size_t at = 0; at < 8; ++at) {
    CAPTURE(at);
    Bytes bad = good;
    bad[at] ^= 0x20;
    const std::string msg = model_error_message([&] { deserialize_model(bad, "magic.lbm"); });
    CAPTURE(msg);
    CHECK(contains(msg, "magic.lbm"));
    CHECK(contains(msg, "bad magic"));
  }
  // Some other file entirely.
  const std::string text = "{\"not\": \"a model\"}\n";
  const Bytes json(text.begin(), text.end());
  const std::string msg = model_error_message([&] { deserialize_model(json, "other.json"); });
  CHECK(contains(msg, "other.json"));
}

TEST_CASE("model file: a file cut short anywhere throws ModelFileError saying so") {
  CAPTURE(kSeed);
  const ModelArtifact a = make_artifact({20, 7, 3}, kSeed);
  const Bytes good = serialize_model(a);
  const Layout layout = layout_of(good);

  struct Cut {
    std::string where;
    std::size_t at;
  };
  std::vector<Cut> cuts{
      {"empty", 0},
      {"inside magic", 5},
      {"after magic", 8},
      {"inside header length", 10},
      {"header length only", 12},
      {"inside header JSON", 12 + layout.header_length / 2},
      {"one byte before header end", 12 + layout.header_length - 1},
      {"header done, padding cut", 12 + layout.header_length},
      {"at payload start", layout.payload_start},
  };
  for (const auto& t : layout.header.at("tensors")) {
    const std::size_t start = layout.payload_start + t.at("offset").get<std::size_t>();
    const std::size_t n = t.at("bytes").get<std::size_t>();
    const std::string name = t.at("name").get<std::string>();
    cuts.push_back({"inside " + name + " (first byte)", start + 1});
    cuts.push_back({"inside " + name + " (middle)", start + n / 2});
    cuts.push_back({"inside " + name + " (last byte missing)", start + n - 1});
  }
  for (const Cut& cut : cuts) {
    CAPTURE(cut.where);
    CAPTURE(cut.at);
    REQUIRE(cut.at < good.size());
    const Bytes bad(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut.at));
    const std::string msg = model_error_message([&] { deserialize_model(bad, "cut.lbm"); });
    CAPTURE(msg);
    CHECK(contains(msg, "cut.lbm"));
    if (cut.at >= 12) {
      CHECK(contains(msg, "truncated"));
    }
  }
}

TEST_CASE("model file: another format version throws ModelFileError naming both versions") {
  CAPTURE(kSeed);
  const Bytes good = serialize_model(make_artifact({20, 7, 3}, kSeed));
  REQUIRE(lowbit::kernels::kModelFormatVersion == 1);
  const Bytes bad = replace_once(good, "\"format_version\":1", "\"format_version\":9");
  const std::string msg = model_error_message([&] { deserialize_model(bad, "v9.lbm"); });
  CAPTURE(msg);
  CHECK(contains(msg, "v9.lbm"));
  CHECK(contains(msg, "format version 9"));
  CHECK(contains(msg, "reads 1"));
  // Without the field at all.
  const Bytes none = replace_once(good, "\"format_version\":1", "\"format_versiom\":1");
  const std::string msg2 = model_error_message([&] { deserialize_model(none, "nov.lbm"); });
  CAPTURE(msg2);
  CHECK(contains(msg2, "nov.lbm"));
  CHECK(contains(msg2, "format_version"));
}

TEST_CASE("model file: a header that is JSON but not the right shape throws ModelFileError") {
  // A file can be damaged into JSON that parses but has a wrong type or a
  // renamed key. Callers (ModelCache::load, the CLI) catch FileError, of which
  // ModelFileError is one, so nothing else may escape.
  CAPTURE(kSeed);
  const Bytes good = serialize_model(make_artifact({20, 7, 3}, kSeed));
  struct Edit {
    std::string what;
    std::string from;
    std::string to;
  };
  const std::vector<Edit> edits{
      {"layers is a string", "\"layers\":[20,7,3]", "\"layers\":\"20,7,3\""},
      {"format_version is a string", "\"format\":\"lowbit-model\",\"format_version\":1",
       "\"format\":\"lowbit-mod\",\"format_version\":\"1\""},
      {"accuracy key renamed", "\"test_top1\"", "\"test_topX\""},
      {"normalization key renamed", "\"mean\"", "\"meow\""},
      {"tensor name key renamed", "\"name\":\"layers.0.weight\"", "\"nome\":\"layers.0.weight\""},
      {"tensor offset is a string", "\"offset\":576", "\"offset\":\"5\""},
      {"data_hash is a number", "\"data_hash\":\"0123456789abcdef\"",
       "\"data_hash\":123456789012345678"},
  };
  for (const Edit& edit : edits) {
    CAPTURE(edit.what);
    const Bytes bad = replace_once(good, edit.from, edit.to);
    const std::string msg = model_error_message([&] { deserialize_model(bad, "shape.lbm"); });
    CAPTURE(msg);
    CHECK(contains(msg, "shape.lbm"));
  }
}

TEST_CASE("model file: tensor offsets and sizes outside the payload throw ModelFileError") {
  CAPTURE(kSeed);
  const Bytes good = serialize_model(make_artifact({20, 7, 3}, kSeed));
  const Layout layout = layout_of(good);
  // The helper itself reproduces the file when the header is unchanged.
  REQUIRE(with_header(good, layout.header) == good);

  struct Edit {
    std::string what;
    std::size_t tensor;
    std::string key;
    std::uint64_t value;
  };
  const std::uint64_t max = ~std::uint64_t{0};
  const std::vector<Edit> edits{
      {"offset past the end", 1, "offset", good.size()},
      {"offset 2^64 - 64 (wraps back into the header)", 1, "offset", max - 63},
      {"offset 2^64 - 64 on the first tensor", 0, "offset", max - 63},
      {"predictions bytes past the end", 4, "bytes", 100000},
      {"predictions bytes 2^64 - 1", 4, "bytes", max},
  };
  for (const Edit& edit : edits) {
    CAPTURE(edit.what);
    nlohmann::json header = layout.header;
    header["tensors"][edit.tensor][edit.key] = edit.value;
    const Bytes bad = with_header(good, header);
    const std::string msg = model_error_message([&] { deserialize_model(bad, "range.lbm"); });
    CAPTURE(msg);
    CHECK(contains(msg, "range.lbm"));
  }
}

TEST_CASE(
    "model file: any one damaged header byte gives a model or a ModelFileError, nothing else") {
  const std::uint64_t seed = 0x5eed0001;
  CAPTURE(seed);
  const Bytes good = serialize_model(make_artifact({20, 7, 3}, kSeed));
  const Layout layout = layout_of(good);
  Rng rng(seed);
  std::size_t other_exceptions = 0;
  std::string first_other;
  for (std::size_t at = 0; at < layout.payload_start; ++at) {
    Bytes bad = good;
    bad[at] ^= static_cast<std::uint8_t>(1 + rng.below(255));
    try {
      (void)deserialize_model(bad, "flip.lbm");
    } catch (const ModelFileError&) {
    } catch (const std::exception& e) {
      if (other_exceptions++ == 0) {
        first_other = "byte " + std::to_string(at) + ": " + e.what();
      }
    }
  }
  CAPTURE(first_other);
  CHECK(other_exceptions == 0);
}
