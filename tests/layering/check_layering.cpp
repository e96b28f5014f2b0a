// Checks the dependency rule (docs/architecture.md) over the include graph: every
// `#include "..."` of a project header must name a folder that the including file's layer may
// depend on, and must name a file that exists. Usage: check_layering SOURCE_ROOT. Prints each
// violation as FILE:LINE and exits 1 when there is one, so the test run fails on it.
//
// The build enforces the same rule by include paths (each library sees only what it links);
// this check also covers what include paths cannot: a header that a library's own folder
// reaches through a lower library, and files directly in kernels/.

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

// The top-level folders whose files are project headers when an include names them.
const std::set<std::string> kProjectFolders = {"bench",    "cli",   "coordinator", "kernels",
                                               "protocol", "stats", "tests",       "worker"};

// Layer → the folders (or single files) it may include. A layer may always include itself.
// kernels/ is split by concept; the concepts form a chain, with measure beside it on base.
// stats/ (pure statistics) sits below everything and includes nothing of ours.
const std::map<std::string, std::vector<std::string>> kAllowed = {
    {"stats", {}},
    {"kernels/base", {}},
    {"kernels/model", {"kernels/base"}},
    {"kernels/gemm", {"kernels/base", "kernels/model"}},
    {"kernels/quant", {"kernels/base", "kernels/model", "kernels/gemm"}},
    {"kernels/engine", {"kernels/base", "kernels/model", "kernels/gemm", "kernels/quant"}},
    {"kernels/train",
     {"kernels/base", "kernels/model", "kernels/gemm", "kernels/quant", "kernels/engine"}},
    {"kernels/prune",
     {"kernels/base", "kernels/model", "kernels/gemm", "kernels/quant", "kernels/engine",
      "kernels/train"}},
    {"kernels/measure", {"kernels/base", "stats"}},
    // The one kernels header the protocol may include: the bits × precision table. stats/ gives
    // it the repetitions a tracked sweep needs.
    {"protocol", {"kernels/base/precision_modes.h", "stats"}},
    {"coordinator", {"protocol", "stats"}},
    {"worker", {"protocol", "kernels", "stats"}},
    {"cli", {"coordinator", "worker", "protocol", "stats"}},
};

// "kernels/gemm/gemm.h" → "kernels/gemm"; "protocol/result.h" → "protocol".
std::string layer_of(const std::string& path) {
  const std::size_t first = path.find('/');
  if (first == std::string::npos) return path;
  const std::string top = path.substr(0, first);
  if (top != "kernels") return top;
  const std::size_t second = path.find('/', first + 1);
  if (second == std::string::npos) return "kernels";  // a file directly in kernels/
  return path.substr(0, second);
}

bool under(const std::string& path, const std::string& prefix) {
  return path == prefix || path.rfind(prefix + "/", 0) == 0;
}

bool allowed(const std::string& from_layer, const std::string& target) {
  if (under(target, from_layer)) return true;
  const auto rule = kAllowed.find(from_layer);
  if (rule == kAllowed.end()) return false;
  for (const std::string& ok : rule->second) {
    if (under(target, ok)) return true;
  }
  return false;
}

bool is_source(const fs::path& p) { return p.extension() == ".h" || p.extension() == ".cpp"; }

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: check_layering SOURCE_ROOT\n");
    return 2;
  }
  const fs::path root = argv[1];
  const std::regex include_line(R"(^\s*#\s*include\s*"([^"]+)\")");
  int files = 0;
  int includes = 0;
  int violations = 0;
  for (const std::string top : {"stats", "kernels", "protocol", "coordinator", "worker", "cli"}) {
    if (!fs::is_directory(root / top)) continue;
    for (const auto& entry : fs::recursive_directory_iterator(root / top)) {
      if (!entry.is_regular_file() || !is_source(entry.path())) continue;
      const std::string file = fs::relative(entry.path(), root).generic_string();
      const std::string from = layer_of(file);
      ++files;
      if (from == "kernels") {
        std::printf("%s: every kernels source belongs in a concept folder (kernels/base, ...)\n",
                    file.c_str());
        ++violations;
      }
      if (kAllowed.find(from) == kAllowed.end() && from != "kernels") {
        std::printf("%s: layer %s has no dependency rule\n", file.c_str(), from.c_str());
        ++violations;
      }
      std::ifstream in(entry.path());
      std::string line;
      for (int number = 1; std::getline(in, line); ++number) {
        std::smatch m;
        if (!std::regex_search(line, m, include_line)) continue;
        const std::string target = m[1];
        const std::size_t slash = target.find('/');
        if (slash == std::string::npos || kProjectFolders.count(target.substr(0, slash)) == 0) {
          continue;  // a library's header
        }
        ++includes;
        if (!fs::exists(root / target)) {
          std::printf("%s:%d: includes %s, which does not exist\n", file.c_str(), number,
                      target.c_str());
          ++violations;
        }
        if (!allowed(from, target)) {
          std::printf("%s:%d: includes %s, but %s may not depend on %s\n", file.c_str(), number,
                      target.c_str(), from.c_str(), layer_of(target).c_str());
          ++violations;
        }
      }
    }
  }
  std::printf("layering: %d files, %d project includes, %d violations\n", files, includes,
              violations);
  if (files == 0) {
    std::printf("layering: no source found under %s\n", root.string().c_str());
    return 1;
  }
  return violations == 0 ? 0 : 1;
}
