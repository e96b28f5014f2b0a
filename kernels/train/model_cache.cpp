#include "kernels/train/model_cache.h"

#include <fmt/format.h>
#include <xxhash.h>

#include <cstdlib>

namespace lowbit::kernels {

nlohmann::json to_json(const TrainSpec& spec) {
  return {
      {"layers", spec.layers},
      {"epochs", spec.epochs},
      {"batch_size", spec.batch_size},
      {"learning_rate", spec.learning_rate},
      {"schedule", to_string(spec.schedule)},
      {"weight_decay", spec.weight_decay},
      {"validation_images", spec.validation_images},
      {"train_images", spec.train_images},
      {"seed", spec.seed},
      {"augment_flip", spec.augment_flip},
      {"threads", spec.threads},
      {"optimizer", "adam"},
      {"init", "he_normal"},
  };
}

std::string model_cache_key(const TrainSpec& spec, const std::string& data_hash) {
  return model_cache_key(to_json(spec), data_hash);
}

std::string model_cache_key(const nlohmann::json& training, const std::string& data_hash) {
  const nlohmann::json keyed = {
      {"training", training},
      {"data_hash", data_hash},
      {"format_version", kModelFormatVersion},
  };
  const std::string text = keyed.dump();  // nlohmann orders keys: canonical
  return fmt::format("{:016x}", XXH3_64bits(text.data(), text.size()));
}

std::filesystem::path default_cache_dir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0') {
    return std::filesystem::path(xdg) / "lowbit";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return std::filesystem::path(home) / ".cache" / "lowbit";
  }
  return ".lowbit-cache";
}

std::filesystem::path ModelCache::path_for(const std::string& key) const {
  return dir_ / "models" / (key + ".lbm");
}

std::optional<CachedModel> ModelCache::load(const std::string& key) const {
  const std::filesystem::path path = path_for(key);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::nullopt;
  try {
    const std::vector<std::uint8_t> bytes = read_file(path);
    CachedModel cached{deserialize_model(bytes, path.string()), content_hash(bytes)};
    return cached;
  } catch (const FileError&) {  // unreadable, or not a model (ModelFileError)
    return std::nullopt;
  }
}

std::string ModelCache::store(const std::string& key, const ModelArtifact& artifact) const {
  const std::vector<std::uint8_t> bytes = serialize_model(artifact);
  write_file_atomically(path_for(key), bytes);
  return content_hash(bytes);
}

std::optional<std::vector<std::uint8_t>> ModelCache::bytes(const std::string& key) const {
  const std::filesystem::path path = path_for(key);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::nullopt;
  return read_file(path);
}

void ModelCache::install(const std::string& key, const std::string& hash,
                         std::span<const std::uint8_t> file) const {
  const std::string actual = content_hash(file);
  if (actual != hash) {
    throw ModelFileError(fmt::format("model {}: the bytes hash to {}", hash, actual));
  }
  deserialize_model(file, hash);  // throws ModelFileError for anything that is not a model
  write_file_atomically(path_for(key), file);
}

}  // namespace lowbit::kernels
