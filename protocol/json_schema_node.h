#pragma once
// The compiled form of a draft-07 schema, shared by the compiler
// (json_schema.cpp), the validator (json_schema_validate.cpp), the regexes
// (json_schema_regex.cpp) and the value helpers (json_schema_value.cpp).
// Not part of the public API: only json_schema*.cpp include it.
//
// Compiling once checks every keyword up front, so a bad schema fails when it
// is loaded rather than on the first document that reaches the bad keyword,
// and validation never re-parses keyword values or regexes.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/json_schema.h"

namespace lowbit::protocol::schema_detail {

using nlohmann::json;

// Bits of the "type" keyword. Draft-07 counts any number with a zero
// fractional part as an integer, 1.0 included.
enum TypeBits : std::uint8_t {
  kTypeNull = 1 << 0,
  kTypeBoolean = 1 << 1,
  kTypeObject = 1 << 2,
  kTypeArray = 1 << 3,
  kTypeNumber = 1 << 4,
  kTypeString = 1 << 5,
  kTypeInteger = 1 << 6,
};

struct Pattern {
  std::string source;  // as written in the schema, for messages
  std::wregex regex;   // over code points (see utf8_to_wide)
};

struct SchemaNode;

struct PatternProperty {
  Pattern pattern;
  const SchemaNode* schema = nullptr;
};

struct Dependency {
  std::string field;
  std::vector<std::string> required_fields;  // array form
  const SchemaNode* schema = nullptr;        // schema form
};

// One schema object or boolean. Absent keywords are null / empty / nullopt.
// Child pointers point into CompiledSchema::nodes and may form cycles
// through $ref.
struct SchemaNode {
  std::string location;  // JSON pointer into the schema document, for messages

  std::optional<bool> boolean;      // a boolean schema: true or false
  const SchemaNode* ref = nullptr;  // $ref: when set, every sibling is ignored

  std::uint8_t types = 0;  // TypeBits; 0 = no "type" keyword
  std::vector<std::string> type_names;
  std::optional<json> enum_values;  // the array as written
  std::optional<json> const_value;

  std::map<std::string, const SchemaNode*, std::less<>> properties;
  std::vector<PatternProperty> pattern_properties;
  const SchemaNode* additional_properties = nullptr;
  const SchemaNode* property_names = nullptr;
  std::vector<std::string> required;
  std::optional<std::uint64_t> min_properties;
  std::optional<std::uint64_t> max_properties;
  std::vector<Dependency> dependencies;

  const SchemaNode* items = nullptr;           // schema form
  std::vector<const SchemaNode*> tuple_items;  // array form
  bool has_tuple_items = false;
  const SchemaNode* additional_items = nullptr;  // only with the array form
  const SchemaNode* contains = nullptr;
  std::optional<std::uint64_t> min_items;
  std::optional<std::uint64_t> max_items;
  bool unique_items = false;

  std::optional<json> minimum;  // numbers as written
  std::optional<json> maximum;
  std::optional<json> exclusive_minimum;
  std::optional<json> exclusive_maximum;
  std::optional<json> multiple_of;

  std::optional<std::uint64_t> min_length;  // in code points
  std::optional<std::uint64_t> max_length;
  std::optional<Pattern> pattern;

  std::vector<const SchemaNode*> all_of;
  std::vector<const SchemaNode*> any_of;
  std::vector<const SchemaNode*> one_of;
  const SchemaNode* not_schema = nullptr;
  const SchemaNode* if_schema = nullptr;
  const SchemaNode* then_schema = nullptr;
  const SchemaNode* else_schema = nullptr;
};

struct CompiledSchema {
  json document;
  std::deque<SchemaNode> nodes;  // a deque: nodes point at each other, so they never move
  const SchemaNode* root = nullptr;
};

// Validates `instance`; appends errors to `errors` in document order, or stops
// at the first failure when `errors` is null. Returns whether it is valid.
bool validate_instance(const SchemaNode& root, const json& instance,
                       std::vector<SchemaError>* errors);

// --- Regexes (json_schema_regex.cpp) ---

// Throws std::regex_error on a bad or unsupported (back-reference) pattern.
Pattern compile_pattern(const std::string& source);

// std::regex_search semantics: anywhere in the string unless anchored.
bool pattern_matches(const Pattern& pattern, std::string_view utf8);

// UTF-8 to one wchar_t per code point; malformed bytes become U+FFFD.
std::wstring utf8_to_wide(std::string_view utf8);

// --- Value helpers (json_schema_value.cpp) ---

// Exact comparison of two JSON numbers of any representation: <0, 0, >0.
int compare_numbers(const json& a, const json& b);

// A total order on JSON values in which 1 and 1.0 are equal (unlike
// nlohmann's operator==, which rounds integers beyond 2^53 through double).
int compare_values(const json& a, const json& b);
inline bool values_equal(const json& a, const json& b) { return compare_values(a, b) == 0; }

// Whether value / divisor is an integer, on the shortest decimal forms of both
// (divisor > 0).
bool is_multiple_of(const json& value, const json& divisor);

bool is_integral(const json& number);

std::size_t count_code_points(std::string_view utf8);

// value.dump(), cut to a length that fits in a one-line message.
std::string short_dump(const json& value);

// RFC 6901 escaping of one reference token: "~" -> "~0", "/" -> "~1".
std::string escape_pointer_token(std::string_view token);

}  // namespace lowbit::protocol::schema_detail
