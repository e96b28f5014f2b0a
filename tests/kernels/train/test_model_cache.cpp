// Tests for the model cache (kernels/model_cache): the key covers every
// training field and the data hash, store/load round-trips, and an absent or
// damaged file is a miss.

#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
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
using lowbit::kernels::LrSchedule;
using lowbit::kernels::model_cache_key;
using lowbit::kernels::ModelArtifact;
using lowbit::kernels::ModelCache;
using lowbit::kernels::TrainSpec;
using Bytes = std::vector<std::uint8_t>;

using lowbit::testing::TempDir;

// Sets or unsets an environment variable for one scope, restoring it after.
class EnvGuard {
 public:
  explicit EnvGuard(std::string name) : name_(std::move(name)) {
    if (const char* v = std::getenv(name_.c_str()); v != nullptr) old_ = v;
  }
  ~EnvGuard() {
    if (old_) {
      ::setenv(name_.c_str(), old_->c_str(), 1);
    } else {
      ::unsetenv(name_.c_str());
    }
  }
  EnvGuard(const EnvGuard&) = delete;
  EnvGuard& operator=(const EnvGuard&) = delete;
  void set(const std::string& value) const {
    REQUIRE(::setenv(name_.c_str(), value.c_str(), 1) == 0);
  }
  void unset() const { REQUIRE(::unsetenv(name_.c_str()) == 0); }

 private:
  std::string name_;
  std::optional<std::string> old_;
};

ModelArtifact make_artifact(const TrainSpec& spec, const std::string& data_hash) {
  ModelArtifact a;
  a.model = lowbit::kernels::init_mlp(spec.layers, spec.seed);
  lowbit::kernels::Rng rng(spec.seed + 99);
  for (auto& layer : a.model.layers) {
    for (float& b : layer.bias) b = static_cast<float>(rng.normal());
  }
  a.model.normalization = {0.25f, 0.375f};
  a.training = lowbit::kernels::to_json(spec);
  a.data_hash = data_hash;
  a.test_top1 = 0.5;
  a.validation_top1 = 0.25;
  a.test_predictions.resize(17);
  for (auto& p : a.test_predictions) {
    p = static_cast<std::uint8_t>(rng.below(static_cast<std::uint64_t>(spec.layers.back())));
  }
  return a;
}

std::vector<std::uint32_t> bits(std::span<const float> v) {
  std::vector<std::uint32_t> out(v.size());
  std::transform(v.begin(), v.end(), out.begin(),
                 [](float f) { return std::bit_cast<std::uint32_t>(f); });
  return out;
}

bool is_hex(const std::string& s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

void write_bytes(const fs::path& path, const Bytes& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

TrainSpec small_spec() {
  TrainSpec spec;
  spec.layers = {20, 7, 3};
  spec.seed = 11;
  return spec;
}

const std::string kDataHash = "00112233445566ff";

}  // namespace

TEST_CASE("model cache: the key is 16 hex digits and stable for an equal spec") {
  const TrainSpec a = small_spec();
  const TrainSpec b = small_spec();  // built separately
  const std::string key = model_cache_key(a, kDataHash);
  CAPTURE(key);
  CHECK(key.size() == 16);
  CHECK(is_hex(key));
  CHECK(model_cache_key(b, kDataHash) == key);
  CHECK(model_cache_key(a, kDataHash) == key);
  // The default spec too.
  CHECK(model_cache_key(TrainSpec{}, kDataHash) == model_cache_key(TrainSpec{}, kDataHash));
}

TEST_CASE("model cache: the key changes when any training field or the data hash changes") {
  struct Change {
    std::string field;
    std::function<void(TrainSpec&)> apply;
  };
  const std::vector<Change> changes{
      {"layers: a width",
       [](TrainSpec& s) {
         s.layers = {20, 8, 3};
       }},
      {"layers: a layer more",
       [](TrainSpec& s) {
         s.layers = {20, 7, 7, 3};
       }},
      {"epochs", [](TrainSpec& s) { s.epochs += 1; }},
      {"batch_size", [](TrainSpec& s) { s.batch_size = 64; }},
      {"learning_rate", [](TrainSpec& s) { s.learning_rate = 2e-3f; }},
      {"learning_rate one ulp up",
       [](TrainSpec& s) { s.learning_rate = std::nextafter(s.learning_rate, 1.0f); }},
      {"schedule", [](TrainSpec& s) { s.schedule = LrSchedule::kConstant; }},
      {"weight_decay", [](TrainSpec& s) { s.weight_decay = 0.0f; }},
      {"weight_decay one ulp down",
       [](TrainSpec& s) { s.weight_decay = std::nextafter(s.weight_decay, 0.0f); }},
      {"validation_images", [](TrainSpec& s) { s.validation_images = 0; }},
      {"train_images", [](TrainSpec& s) { s.train_images = 1000; }},
      {"augment_flip", [](TrainSpec& s) { s.augment_flip = !s.augment_flip; }},
      {"threads", [](TrainSpec& s) { s.threads += 1; }},
      {"seed", [](TrainSpec& s) { s.seed += 1; }},
      // Above 2^53: a seed that went through a double would collide.
      {"seed 2^63 + 1", [](TrainSpec& s) { s.seed = (std::uint64_t{1} << 63) + 1; }},
      {"seed 2^63", [](TrainSpec& s) { s.seed = std::uint64_t{1} << 63; }},
  };
  const TrainSpec base = small_spec();
  const std::string base_key = model_cache_key(base, kDataHash);
  std::vector<std::string> keys{base_key};
  for (const Change& change : changes) {
    CAPTURE(change.field);
    TrainSpec spec = base;
    change.apply(spec);
    const std::string key = model_cache_key(spec, kDataHash);
    CAPTURE(key);
    CHECK(key.size() == 16);
    CHECK(key != base_key);
    keys.push_back(key);
  }
  // All distinct from each other, not only from the base.
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  CHECK(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end());

  // The data hash.
  CHECK(model_cache_key(base, "00112233445566fe") != base_key);
  CHECK(model_cache_key(base, "") != base_key);
  CHECK(model_cache_key(base, kDataHash + "0") != base_key);
}

TEST_CASE("model cache: store then load is a hit with an equal hash and identical weights") {
  TempDir dir("lowbit-test-cache-hit");
  const ModelCache cache(dir.folder());
  const TrainSpec spec = small_spec();
  CAPTURE(spec.seed);
  const std::string key = model_cache_key(spec, kDataHash);
  const ModelArtifact artifact = make_artifact(spec, kDataHash);

  CHECK_FALSE(cache.load(key).has_value());
  const std::string stored_hash = cache.store(key, artifact);
  CHECK(stored_hash.size() == 32);
  CHECK(stored_hash == lowbit::kernels::content_hash(lowbit::kernels::serialize_model(artifact)));

  const fs::path path = cache.path_for(key);
  CAPTURE(path.string());
  CHECK(fs::is_regular_file(path));
  CHECK(path.string().rfind(dir.folder().string(), 0) == 0);  // inside the cache folder
  CHECK(path.filename().string().find(key) != std::string::npos);

  const auto loaded = cache.load(key);
  REQUIRE(loaded.has_value());
  CHECK(loaded->hash == stored_hash);
  CHECK(loaded->hash == lowbit::kernels::content_hash(lowbit::kernels::read_file(path)));
  REQUIRE(loaded->artifact.model.layers.size() == artifact.model.layers.size());
  for (std::size_t l = 0; l < artifact.model.layers.size(); ++l) {
    CAPTURE(l);
    CHECK(bits(loaded->artifact.model.layers[l].weights) == bits(artifact.model.layers[l].weights));
    CHECK(bits(loaded->artifact.model.layers[l].bias) == bits(artifact.model.layers[l].bias));
  }
  CHECK(loaded->artifact.test_predictions == artifact.test_predictions);
  CHECK(loaded->artifact.training == artifact.training);
  CHECK(loaded->artifact.data_hash == kDataHash);

  // Storing the same artifact again gives the same hash; no temp files remain.
  CHECK(cache.store(key, artifact) == stored_hash);
  for (const auto& entry : fs::recursive_directory_iterator(dir.folder())) {
    CAPTURE(entry.path().string());
    CHECK(entry.path().filename().string().find(".tmp.") == std::string::npos);
  }
}

TEST_CASE("model cache: an absent key is a miss") {
  TempDir dir("lowbit-test-cache-miss");
  const ModelCache cache(dir.folder());
  CHECK_FALSE(cache.load(model_cache_key(small_spec(), kDataHash)).has_value());
  CHECK_FALSE(cache.load("0000000000000000").has_value());
  // A cache folder that does not exist yet is a miss, not an error.
  const ModelCache nowhere(dir.folder() / "not" / "there");
  CHECK_FALSE(nowhere.load("0000000000000000").has_value());
  // Another key stored does not make this one a hit.
  TrainSpec other = small_spec();
  other.seed = 12;
  cache.store(model_cache_key(other, kDataHash), make_artifact(other, kDataHash));
  CHECK_FALSE(cache.load(model_cache_key(small_spec(), kDataHash)).has_value());
  CHECK(cache.load(model_cache_key(other, kDataHash)).has_value());
}

TEST_CASE("model cache: a corrupt file under the key is a miss, and store replaces it") {
  TempDir dir("lowbit-test-cache-corrupt");
  const ModelCache cache(dir.folder());
  const TrainSpec spec = small_spec();
  CAPTURE(spec.seed);
  const std::string key = model_cache_key(spec, kDataHash);
  const ModelArtifact artifact = make_artifact(spec, kDataHash);
  const Bytes good = lowbit::kernels::serialize_model(artifact);
  const fs::path path = cache.path_for(key);

  SUBCASE("garbage") {
    write_bytes(path, Bytes{'n', 'o', 't', ' ', 'a', ' ', 'm', 'o', 'd', 'e', 'l'});
    CHECK_FALSE(cache.load(key).has_value());
  }
  SUBCASE("empty file") {
    write_bytes(path, Bytes{});
    CHECK_FALSE(cache.load(key).has_value());
  }
  SUBCASE("truncated in the middle") {
    write_bytes(path,
                Bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(good.size() / 2)));
    CHECK_FALSE(cache.load(key).has_value());
  }
  SUBCASE("wrong format version") {
    Bytes bad = good;
    const std::string from = "\"format_version\":1";
    const auto it = std::search(bad.begin(), bad.end(), from.begin(), from.end());
    REQUIRE(it != bad.end());
    *(it + static_cast<std::ptrdiff_t>(from.size()) - 1) = '9';
    write_bytes(path, bad);
    CHECK_FALSE(cache.load(key).has_value());
  }
  SUBCASE("header JSON of the wrong shape (a renamed key)") {
    // Parses as JSON, but accuracy.test_top1 is gone: must still be a miss,
    // not an exception out of load().
    Bytes bad = good;
    const std::string from = "\"test_top1\"";
    const std::string to = "\"test_topX\"";
    const auto it = std::search(bad.begin(), bad.end(), from.begin(), from.end());
    REQUIRE(it != bad.end());
    std::copy(to.begin(), to.end(), it);
    write_bytes(path, bad);
    std::optional<lowbit::kernels::CachedModel> loaded;
    CHECK_NOTHROW(loaded = cache.load(key));
    CHECK_FALSE(loaded.has_value());
  }

  // Whatever the damage, the next store repairs the entry.
  const std::string hash = cache.store(key, artifact);
  const auto loaded = cache.load(key);
  REQUIRE(loaded.has_value());
  CHECK(loaded->hash == hash);
}

TEST_CASE("model cache: default_cache_dir honours XDG_CACHE_HOME, then HOME") {
  const EnvGuard xdg("XDG_CACHE_HOME");
  const EnvGuard home("HOME");

  xdg.set("/tmp/xdg-cache-test");
  home.set("/tmp/home-test");
  CHECK(lowbit::kernels::default_cache_dir() == fs::path("/tmp/xdg-cache-test/lowbit"));

  xdg.set("");  // empty counts as unset (XDG Base Directory spec)
  CHECK(lowbit::kernels::default_cache_dir() == fs::path("/tmp/home-test/.cache/lowbit"));

  xdg.unset();
  CHECK(lowbit::kernels::default_cache_dir() == fs::path("/tmp/home-test/.cache/lowbit"));

  home.unset();
  CHECK(lowbit::kernels::default_cache_dir() == fs::path(".lowbit-cache"));

  home.set("");
  CHECK(lowbit::kernels::default_cache_dir() == fs::path(".lowbit-cache"));
}
