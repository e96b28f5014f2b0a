#pragma once
// The name of a content-addressed artifact: xxh3-128 of its bytes as 32 hex digits, high half
// first — the recipe the worker's model files use (kernels/model/model_file.h content_hash),
// repeated here because the coordinator never links kernels/.

#include <cstdint>
#include <string>
#include <vector>

namespace lowbit::coordinator {

std::string artifact_hash(const std::vector<std::uint8_t>& bytes);

}  // namespace lowbit::coordinator
