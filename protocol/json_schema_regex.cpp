// The "pattern" and "patternProperties" regexes: ECMAScript syntax through
// std::regex, over code points. Kept in one file so that the warning below is
// silenced for regex code only.

// GCC 12 at -O2 with AddressSanitizer (our build-asan, -Werror) reports
// -Wmaybe-uninitialized inside libstdc++'s regex compiler, where a _State's
// std::function is moved; a known false positive in code we do not own.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <regex>
#include <string>
#include <string_view>

#include "protocol/json_schema_node.h"

namespace lowbit::protocol::schema_detail {
namespace {

// libstdc++'s default regex executor recurses once per input character and
// overflows the stack on strings of ~10^4 characters, which a request body can
// carry. __polynomial selects its breadth-first executor: recursion bounded by
// the pattern, time linear in the input, and no back-references.
constexpr auto kRegexFlags = std::regex::ECMAScript | std::regex_constants::__polynomial;

}  // namespace

Pattern compile_pattern(const std::string& source) {
  return Pattern{source, std::wregex(utf8_to_wide(source), kRegexFlags)};
}

bool pattern_matches(const Pattern& pattern, std::string_view utf8) {
  return std::regex_search(utf8_to_wide(utf8), pattern.regex);
}

std::wstring utf8_to_wide(std::string_view utf8) {
  static_assert(sizeof(wchar_t) >= 4, "one wchar_t per code point needs UTF-32 wchar_t");
  constexpr wchar_t kReplacement = 0xFFFD;
  std::wstring out;
  out.reserve(utf8.size());
  std::size_t i = 0;
  while (i < utf8.size()) {
    const auto lead = static_cast<unsigned char>(utf8[i]);
    int length = 0;
    std::uint32_t cp = 0;
    if (lead < 0x80) {
      length = 1;
      cp = lead;
    } else if ((lead & 0xE0) == 0xC0) {
      length = 2;
      cp = lead & 0x1Fu;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3;
      cp = lead & 0x0Fu;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4;
      cp = lead & 0x07u;
    }
    bool ok = length > 0 && i + static_cast<std::size_t>(length) <= utf8.size();
    for (int k = 1; ok && k < length; ++k) {
      const auto byte = static_cast<unsigned char>(utf8[i + static_cast<std::size_t>(k)]);
      ok = (byte & 0xC0) == 0x80;
      cp = (cp << 6) | (byte & 0x3Fu);
    }
    if (!ok) {
      out.push_back(kReplacement);
      ++i;
      continue;
    }
    out.push_back(static_cast<wchar_t>(cp));
    i += static_cast<std::size_t>(length);
  }
  return out;
}

}  // namespace lowbit::protocol::schema_detail
