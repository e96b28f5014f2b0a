#pragma once
// A JSON Schema draft-07 validator for the documents that cross our boundaries
// (job specs, results, CLI input). Every side validates with the same schemas
// from schemas/, so a document one side accepts is never rejected by another.
//
// Implemented (draft-07 semantics): boolean schemas, type, enum, const,
// properties, required, additionalProperties, patternProperties, propertyNames,
// minProperties, maxProperties, dependencies, items, additionalItems, contains,
// minItems, maxItems, uniqueItems, minimum, maximum, exclusiveMinimum,
// exclusiveMaximum, multipleOf, minLength, maxLength, pattern, allOf, anyOf,
// oneOf, not, if/then/else, definitions, and $ref to a JSON pointer in the same
// document ("#", "#/definitions/x", with ~0 ~1 and %XX escapes). As draft-07
// says, keywords beside a $ref are ignored.
//
// Annotations, accepted and not checked: $schema (must name draft-07), $id (only
// at the root), $comment, title, description, default, examples, readOnly,
// writeOnly, format, contentMediaType, contentEncoding. Draft-07 lets a validator
// treat format and content* as annotations; we do.
//
// Rejected when the schema is built (std::invalid_argument): any other keyword
// (a typo must not silently turn a constraint off; an unknown key is allowed
// only as a container that a $ref points into), a $ref to another document or
// to an $id anchor, $id below the root (it would change how $ref resolves), a
// malformed keyword value, a pattern with back-references, a $ref cycle.
//
// Numbers are compared exactly (1 equals 1.0 in enum, const and uniqueItems;
// integers beyond 2^53 are not rounded). multipleOf is decided on the shortest
// decimal form of each number, so 0.0075 is a multiple of 0.0001. String
// lengths and patterns work on Unicode code points; patterns use ECMAScript
// syntax (std::regex) and match anywhere in the string unless anchored.

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace lowbit::protocol {

struct SchemaError {
  // RFC 6901 pointer into the instance ("" for the root, "/axes/bits/1").
  // An unknown field names the field itself; a missing one names its object.
  std::string pointer;
  // Short and self-contained: "33 is not one of [2,3,4,5,6,7,8,32]".
  std::string message;

  // "/axes/bits/1: 33 is not one of [2,3,4,5,6,7,8,32]"; the root reads "(root): ...".
  std::string to_string() const;

  friend bool operator==(const SchemaError&, const SchemaError&) = default;
};

namespace schema_detail {
struct CompiledSchema;
}

// Immutable once built: copies share the compiled form, and validate() may be
// called from many threads at once.
class JsonSchema {
 public:
  // Throws std::invalid_argument, naming the keyword and its location in the
  // schema ("schema #/properties/x: unsupported keyword \"formt\""), for what
  // the header comment lists as rejected.
  explicit JsonSchema(nlohmann::json schema);

  // Loads "<dir>/<name>.schema.json". Throws std::runtime_error naming the file
  // when it is missing or not JSON, std::invalid_argument (also naming the file)
  // when it is not a schema we support.
  static JsonSchema load(const std::string& name, const std::string& dir = LOWBIT_SCHEMA_DIR);

  // Empty when valid. Errors are sorted by instance location in document order
  // (an object before its members, members in key order, items by index);
  // errors at one location keep the order of the schema's keywords.
  std::vector<SchemaError> validate(const nlohmann::json& instance) const;

  // Same verdict as validate().empty(), stopping at the first failure.
  bool is_valid(const nlohmann::json& instance) const;

 private:
  std::shared_ptr<const schema_detail::CompiledSchema> compiled_;
};

}  // namespace lowbit::protocol
