// Compiles a draft-07 schema document into SchemaNodes (json_schema_node.h),
// checking every keyword value, and loads schemas from schemas/.

#include "protocol/json_schema.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "protocol/json_schema_node.h"

namespace lowbit::protocol {

using schema_detail::CompiledSchema;
using schema_detail::json;
using schema_detail::Pattern;
using schema_detail::SchemaNode;

namespace {

// Accepted and not checked; see json_schema.h for why each is safe to ignore.
// "$id" and "$schema" get extra checks in compile_node().
constexpr std::array<std::string_view, 12> kAnnotationKeywords = {
    "$schema",  "$id",      "$comment",  "title",  "description",      "default",
    "examples", "readOnly", "writeOnly", "format", "contentMediaType", "contentEncoding",
};

constexpr std::array<std::string_view, 4> kDraft07Uris = {
    "http://json-schema.org/draft-07/schema#",
    "http://json-schema.org/draft-07/schema",
    "https://json-schema.org/draft-07/schema#",
    "https://json-schema.org/draft-07/schema",
};

std::string child_location(const std::string& parent, std::string_view token) {
  return parent + "/" + schema_detail::escape_pointer_token(token);
}

[[noreturn]] void bad_schema(const std::string& location, const std::string& what) {
  throw std::invalid_argument(fmt::format("schema #{}: {}", location, what));
}

// A $ref is a URI reference; its fragment is percent-encoded (RFC 3986 §2.1).
std::string percent_decode(std::string_view text, const std::string& location) {
  const auto hex = [&](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    bad_schema(location, fmt::format("bad %-escape in $ref \"{}\"", text));
  };
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) {
      bad_schema(location, fmt::format("bad %-escape in $ref \"{}\"", text));
    }
    out += static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2]));
    i += 2;
  }
  return out;
}

class Compiler {
 public:
  explicit Compiler(CompiledSchema& out) : out_(out) {}

  void compile_document() {
    const json& doc = out_.document;
    if (doc.is_object()) {
      if (const auto id = doc.find("$id"); id != doc.end() && !id->is_string()) {
        bad_schema("", "$id must be a string");
      }
    }
    out_.root = compile(doc, "");
    check_unknown_keywords();
    check_ref_cycles();
  }

 private:
  using KeywordHandler = void (Compiler::*)(SchemaNode&, const json&, const std::string&);

  const SchemaNode* compile(const json& schema, const std::string& location) {
    if (const auto it = by_location_.find(location); it != by_location_.end()) return it->second;
    SchemaNode& node = out_.nodes.emplace_back();
    node.location = location;
    by_location_.emplace(location, &node);
    compile_node(node, schema);
    return &node;
  }

  void compile_node(SchemaNode& node, const json& schema) {
    const std::string& location = node.location;
    if (schema.is_boolean()) {
      node.boolean = schema.get<bool>();
      return;
    }
    if (!schema.is_object()) bad_schema(location, "a schema must be an object or a boolean");
    // Draft-07 §8.3: "All other properties in a "$ref" object MUST be ignored."
    if (const auto ref = schema.find("$ref"); ref != schema.end()) {
      node.ref = resolve_ref(*ref, location);
      return;
    }
    for (const auto& [key, value] : schema.items()) {
      const std::string keyword_location = child_location(location, key);
      if (const auto handler = handlers().find(key); handler != handlers().end()) {
        (this->*(handler->second))(node, value, keyword_location);
        continue;
      }
      if (std::find(kAnnotationKeywords.begin(), kAnnotationKeywords.end(), key) ==
          kAnnotationKeywords.end()) {
        unknown_keywords_.emplace_back(keyword_location, key);
        continue;
      }
      if (key == "$id" && !location.empty()) {
        bad_schema(location, "$id below the root is not supported (it changes how $ref resolves)");
      }
      if (key == "$schema" &&
          (!value.is_string() || std::find(kDraft07Uris.begin(), kDraft07Uris.end(),
                                           value.get<std::string>()) == kDraft07Uris.end())) {
        bad_schema(location, fmt::format("$schema {} is not draft-07 ({})", short_dump(value),
                                         kDraft07Uris.front()));
      }
    }
  }

  static const std::unordered_map<std::string_view, KeywordHandler>& handlers() {
    static const std::unordered_map<std::string_view, KeywordHandler> table = {
        {"type", &Compiler::on_type},
        {"enum", &Compiler::on_enum},
        {"const", &Compiler::on_const},
        {"properties", &Compiler::on_properties},
        {"required", &Compiler::on_required},
        {"additionalProperties", &Compiler::on_additional_properties},
        {"patternProperties", &Compiler::on_pattern_properties},
        {"propertyNames", &Compiler::on_property_names},
        {"minProperties", &Compiler::on_min_properties},
        {"maxProperties", &Compiler::on_max_properties},
        {"dependencies", &Compiler::on_dependencies},
        {"items", &Compiler::on_items},
        {"additionalItems", &Compiler::on_additional_items},
        {"contains", &Compiler::on_contains},
        {"minItems", &Compiler::on_min_items},
        {"maxItems", &Compiler::on_max_items},
        {"uniqueItems", &Compiler::on_unique_items},
        {"minimum", &Compiler::on_minimum},
        {"maximum", &Compiler::on_maximum},
        {"exclusiveMinimum", &Compiler::on_exclusive_minimum},
        {"exclusiveMaximum", &Compiler::on_exclusive_maximum},
        {"multipleOf", &Compiler::on_multiple_of},
        {"minLength", &Compiler::on_min_length},
        {"maxLength", &Compiler::on_max_length},
        {"pattern", &Compiler::on_pattern},
        {"allOf", &Compiler::on_all_of},
        {"anyOf", &Compiler::on_any_of},
        {"oneOf", &Compiler::on_one_of},
        {"not", &Compiler::on_not},
        {"if", &Compiler::on_if},
        {"then", &Compiler::on_then},
        {"else", &Compiler::on_else},
        {"definitions", &Compiler::on_definitions},
    };
    return table;
  }

  // --- keyword value readers ---

  static std::string short_dump(const json& value) { return schema_detail::short_dump(value); }

  static std::uint64_t non_negative_integer(const json& value, const std::string& location) {
    if (value.is_number_unsigned()) return value.get<std::uint64_t>();
    if (value.is_number_integer() && value.get<std::int64_t>() >= 0) {
      return static_cast<std::uint64_t>(value.get<std::int64_t>());
    }
    if (value.is_number_float() && schema_detail::is_integral(value) && value.get<double>() >= 0 &&
        value.get<double>() < 0x1p64) {
      return static_cast<std::uint64_t>(value.get<double>());
    }
    bad_schema(location, fmt::format("expected a non-negative integer, got {}", short_dump(value)));
  }

  static json number(const json& value, const std::string& location) {
    if (!value.is_number()) {
      bad_schema(location, fmt::format("expected a number, got {}", short_dump(value)));
    }
    return value;
  }

  static Pattern pattern(const json& value, const std::string& location) {
    if (!value.is_string()) {
      bad_schema(location, fmt::format("expected a regex string, got {}", short_dump(value)));
    }
    const auto& source = value.get_ref<const std::string&>();
    try {
      return schema_detail::compile_pattern(source);
    } catch (const std::regex_error& e) {
      bad_schema(location, fmt::format("bad regex {}: {}", short_dump(value), e.what()));
    }
  }

  const SchemaNode* subschema(const json& value, const std::string& location) {
    return compile(value, location);
  }

  std::vector<const SchemaNode*> schema_array(const json& value, const std::string& location) {
    if (!value.is_array() || value.empty()) {
      bad_schema(location, "expected a non-empty array of schemas");
    }
    std::vector<const SchemaNode*> out;
    for (std::size_t i = 0; i < value.size(); ++i) {
      out.push_back(compile(value[i], child_location(location, std::to_string(i))));
    }
    return out;
  }

  static std::vector<std::string> unique_strings(const json& value, const std::string& location) {
    if (!value.is_array()) bad_schema(location, "expected an array of strings");
    std::vector<std::string> out;
    std::set<std::string, std::less<>> seen;
    for (const json& item : value) {
      if (!item.is_string()) bad_schema(location, "expected an array of strings");
      if (!seen.insert(item.get<std::string>()).second) {
        bad_schema(location, fmt::format("duplicate entry {}", item.dump()));
      }
      out.push_back(item.get<std::string>());
    }
    return out;
  }

  static void require_object(const json& value, const std::string& location) {
    if (!value.is_object()) bad_schema(location, "expected an object of schemas");
  }

  // --- keyword handlers, one per keyword in handlers() ---

  void on_type(SchemaNode& node, const json& value, const std::string& location) {
    static const std::map<std::string, std::uint8_t, std::less<>> kTypeNames = {
        {"null", schema_detail::kTypeNull},       {"boolean", schema_detail::kTypeBoolean},
        {"object", schema_detail::kTypeObject},   {"array", schema_detail::kTypeArray},
        {"number", schema_detail::kTypeNumber},   {"string", schema_detail::kTypeString},
        {"integer", schema_detail::kTypeInteger},
    };
    const json names = value.is_string() ? json::array({value}) : value;
    if (!names.is_array() || names.empty()) {
      bad_schema(location, "expected a type name or a non-empty array of them");
    }
    for (const std::string& name : unique_strings(names, location)) {
      const auto it = kTypeNames.find(name);
      if (it == kTypeNames.end()) bad_schema(location, fmt::format("unknown type \"{}\"", name));
      node.types |= it->second;
      node.type_names.push_back(name);
    }
  }

  void on_enum(SchemaNode& node, const json& value, const std::string& location) {
    if (!value.is_array()) bad_schema(location, "expected an array");
    node.enum_values = value;
  }

  void on_const(SchemaNode& node, const json& value, const std::string&) {
    node.const_value = value;
  }

  void on_properties(SchemaNode& node, const json& value, const std::string& location) {
    require_object(value, location);
    for (const auto& [name, schema] : value.items()) {
      node.properties.emplace(name, subschema(schema, child_location(location, name)));
    }
  }

  void on_required(SchemaNode& node, const json& value, const std::string& location) {
    node.required = unique_strings(value, location);
  }

  void on_additional_properties(SchemaNode& node, const json& value, const std::string& location) {
    node.additional_properties = subschema(value, location);
  }

  void on_pattern_properties(SchemaNode& node, const json& value, const std::string& location) {
    require_object(value, location);
    for (const auto& [source, schema] : value.items()) {
      const std::string schema_location = child_location(location, source);
      node.pattern_properties.push_back(
          {pattern(source, schema_location), subschema(schema, schema_location)});
    }
  }

  void on_property_names(SchemaNode& node, const json& value, const std::string& location) {
    node.property_names = subschema(value, location);
  }

  void on_min_properties(SchemaNode& node, const json& value, const std::string& location) {
    node.min_properties = non_negative_integer(value, location);
  }

  void on_max_properties(SchemaNode& node, const json& value, const std::string& location) {
    node.max_properties = non_negative_integer(value, location);
  }

  void on_dependencies(SchemaNode& node, const json& value, const std::string& location) {
    require_object(value, location);
    for (const auto& [field, dependency] : value.items()) {
      const std::string dependency_location = child_location(location, field);
      schema_detail::Dependency d{field, {}, nullptr};
      if (dependency.is_array()) {
        d.required_fields = unique_strings(dependency, dependency_location);
      } else {
        d.schema = subschema(dependency, dependency_location);
      }
      node.dependencies.push_back(std::move(d));
    }
  }

  void on_items(SchemaNode& node, const json& value, const std::string& location) {
    if (!value.is_array()) {
      node.items = subschema(value, location);
      return;
    }
    node.has_tuple_items = true;
    for (std::size_t i = 0; i < value.size(); ++i) {
      node.tuple_items.push_back(subschema(value[i], child_location(location, std::to_string(i))));
    }
  }

  void on_additional_items(SchemaNode& node, const json& value, const std::string& location) {
    node.additional_items = subschema(value, location);
  }

  void on_contains(SchemaNode& node, const json& value, const std::string& location) {
    node.contains = subschema(value, location);
  }

  void on_min_items(SchemaNode& node, const json& value, const std::string& location) {
    node.min_items = non_negative_integer(value, location);
  }

  void on_max_items(SchemaNode& node, const json& value, const std::string& location) {
    node.max_items = non_negative_integer(value, location);
  }

  void on_unique_items(SchemaNode& node, const json& value, const std::string& location) {
    if (!value.is_boolean()) bad_schema(location, "expected a boolean");
    node.unique_items = value.get<bool>();
  }

  void on_minimum(SchemaNode& node, const json& value, const std::string& location) {
    node.minimum = number(value, location);
  }

  void on_maximum(SchemaNode& node, const json& value, const std::string& location) {
    node.maximum = number(value, location);
  }

  // Draft-04 spelled these as booleans beside minimum/maximum; draft-07 wants the bound.
  void on_exclusive_minimum(SchemaNode& node, const json& value, const std::string& location) {
    node.exclusive_minimum = number(value, location);
  }

  void on_exclusive_maximum(SchemaNode& node, const json& value, const std::string& location) {
    node.exclusive_maximum = number(value, location);
  }

  void on_multiple_of(SchemaNode& node, const json& value, const std::string& location) {
    if (!value.is_number() || schema_detail::compare_numbers(value, json(0)) <= 0) {
      bad_schema(location, fmt::format("expected a number > 0, got {}", short_dump(value)));
    }
    node.multiple_of = value;
  }

  void on_min_length(SchemaNode& node, const json& value, const std::string& location) {
    node.min_length = non_negative_integer(value, location);
  }

  void on_max_length(SchemaNode& node, const json& value, const std::string& location) {
    node.max_length = non_negative_integer(value, location);
  }

  void on_pattern(SchemaNode& node, const json& value, const std::string& location) {
    node.pattern = pattern(value, location);
  }

  void on_all_of(SchemaNode& node, const json& value, const std::string& location) {
    node.all_of = schema_array(value, location);
  }

  void on_any_of(SchemaNode& node, const json& value, const std::string& location) {
    node.any_of = schema_array(value, location);
  }

  void on_one_of(SchemaNode& node, const json& value, const std::string& location) {
    node.one_of = schema_array(value, location);
  }

  void on_not(SchemaNode& node, const json& value, const std::string& location) {
    node.not_schema = subschema(value, location);
  }

  void on_if(SchemaNode& node, const json& value, const std::string& location) {
    node.if_schema = subschema(value, location);
  }

  void on_then(SchemaNode& node, const json& value, const std::string& location) {
    node.then_schema = subschema(value, location);
  }

  void on_else(SchemaNode& node, const json& value, const std::string& location) {
    node.else_schema = subschema(value, location);
  }

  // Compiled even when nothing refers to them, so a typo in an unused
  // definition is still reported.
  void on_definitions(SchemaNode&, const json& value, const std::string& location) {
    require_object(value, location);
    for (const auto& [name, schema] : value.items()) {
      subschema(schema, child_location(location, name));
    }
  }

  // --- $ref ---

  const SchemaNode* resolve_ref(const json& value, const std::string& location) {
    if (!value.is_string()) bad_schema(location, "$ref must be a string");
    const auto& ref = value.get_ref<const std::string&>();
    if (ref.empty() || ref.front() != '#') {
      bad_schema(location, fmt::format("$ref \"{}\": only refs within the same document "
                                       "(\"#/...\") are supported",
                                       ref));
    }
    const std::string fragment = percent_decode(std::string_view(ref).substr(1), location);
    if (!fragment.empty() && fragment.front() != '/') {
      bad_schema(
          location,
          fmt::format("$ref \"{}\": $id anchors are not supported, use a JSON pointer", ref));
    }
    const json* target = nullptr;
    json::json_pointer pointer;
    try {
      pointer = json::json_pointer(fragment);
      target = &out_.document.at(pointer);
    } catch (const json::exception&) {
      bad_schema(location, fmt::format("$ref \"{}\" does not resolve", ref));
    }
    std::string target_location = pointer.to_string();
    ref_targets_.push_back(target_location);
    return compile(*target, target_location);
  }

  // An unknown key is a typo unless a $ref points into it (draft-07 lets a
  // document keep schemas under any key, e.g. {"tilda~field": {...}}).
  void check_unknown_keywords() const {
    for (const auto& [location, key] : unknown_keywords_) {
      const bool is_ref_container = std::any_of(
          ref_targets_.begin(), ref_targets_.end(), [&location = location](const std::string& t) {
            return t == location || t.starts_with(location + "/");
          });
      if (!is_ref_container) {
        bad_schema(location.substr(0, location.rfind('/')),
                   fmt::format("unsupported keyword \"{}\"", key));
      }
    }
  }

  // {"$ref": "#"} at the root, or a -> b -> a through definitions, would
  // recurse without consuming any of the instance.
  void check_ref_cycles() const {
    for (const SchemaNode& start : out_.nodes) {
      std::set<const SchemaNode*> seen;
      for (const SchemaNode* n = &start; n->ref != nullptr; n = n->ref) {
        if (!seen.insert(n).second) bad_schema(start.location, "$ref cycle");
      }
    }
  }

  CompiledSchema& out_;
  std::map<std::string, const SchemaNode*, std::less<>> by_location_;
  std::vector<std::pair<std::string, std::string>> unknown_keywords_;  // (location, key)
  std::vector<std::string> ref_targets_;
};

}  // namespace

std::string SchemaError::to_string() const {
  return fmt::format("{}: {}", pointer.empty() ? "(root)" : pointer, message);
}

JsonSchema::JsonSchema(nlohmann::json schema) {
  auto compiled = std::make_shared<CompiledSchema>();
  compiled->document = std::move(schema);
  Compiler(*compiled).compile_document();
  compiled_ = std::move(compiled);
}

JsonSchema JsonSchema::load(const std::string& name, const std::string& dir) {
  const std::string path = dir + "/" + name + ".schema.json";
  std::ifstream in(path);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot open schema file", path));
  json document;
  try {
    document = json::parse(in);
  } catch (const json::parse_error& e) {
    throw std::runtime_error(fmt::format("{}: not valid JSON: {}", path, e.what()));
  }
  try {
    return JsonSchema(std::move(document));
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(fmt::format("{}: {}", path, e.what()));
  }
}

std::vector<SchemaError> JsonSchema::validate(const nlohmann::json& instance) const {
  std::vector<SchemaError> errors;
  schema_detail::validate_instance(*compiled_->root, instance, &errors);
  return errors;
}

bool JsonSchema::is_valid(const nlohmann::json& instance) const {
  return schema_detail::validate_instance(*compiled_->root, instance, nullptr);
}

}  // namespace lowbit::protocol
