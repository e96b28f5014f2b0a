// Applies a compiled draft-07 schema (json_schema_node.h) to an instance and
// words the errors a user reads in an HTTP 400 body or on the CLI.

#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "protocol/json_schema_node.h"

namespace lowbit::protocol::schema_detail {
namespace {

// Array index or object key. (Not a std::variant: GCC 12 -O2 with ASan warns
// -Wmaybe-uninitialized on copies of variant<size_t, string>.)
struct PathToken {
  // Implicit, so that an index or a key can be passed where a token is expected.
  PathToken(std::size_t i) : index(i), is_index(true) {}
  PathToken(std::string k) : key(std::move(k)) {}

  std::size_t index = 0;
  std::string key;
  bool is_index = false;

  // Within one instance every location holds one kind of container, so
  // tokens at the same depth are both indices (compared numerically) or both
  // keys (compared as nlohmann orders them): document order.
  auto operator<=>(const PathToken&) const = default;
};
// A shorter path that is a prefix comes first: an object before its members.
using Path = std::vector<PathToken>;

struct RawError {
  Path path;
  std::string message;
};

// Schema applications nested inside one another (one per $ref, subschema or
// instance level). Real documents stay far below; the limit turns a runaway
// recursive schema or a hostile, deeply nested body into an error instead of
// a stack overflow. A level costs under 1 KiB of stack in Release and about
// 3 KiB in the ASan build (RelWithDebInfo), so 500 levels fit in 2 MiB.
constexpr int kMaxDepth = 500;

// How many anyOf/oneOf failures, nested inside one another, get their closest
// branch explained. Each explanation re-runs the branches, so unbounded
// nesting through a recursive $ref would cost exponential time.
constexpr int kMaxExplainedNesting = 2;

std::string pointer_of(const Path& path) {
  std::string out;
  for (const PathToken& token : path) {
    out += '/';
    out += token.is_index ? std::to_string(token.index) : escape_pointer_token(token.key);
  }
  return out;
}

void sort_by_path(std::vector<RawError>& errors) {
  std::stable_sort(errors.begin(), errors.end(),
                   [](const RawError& a, const RawError& b) { return a.path < b.path; });
}

std::string quoted(const std::string& name) {
  return json(name).dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string count_of(std::uint64_t n, const char* noun) {
  return fmt::format("{} {}{}", n, noun, n == 1 ? "" : "s");
}

const char* type_name(const json& value) {
  switch (value.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "boolean";
    case json::value_t::object:
      return "object";
    case json::value_t::array:
      return "array";
    case json::value_t::string:
      return "string";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "integer";
    default:
      return "number";
  }
}

std::uint8_t type_bits(const json& value) {
  switch (value.type()) {
    case json::value_t::null:
      return kTypeNull;
    case json::value_t::boolean:
      return kTypeBoolean;
    case json::value_t::object:
      return kTypeObject;
    case json::value_t::array:
      return kTypeArray;
    case json::value_t::string:
      return kTypeString;
    default:
      return is_integral(value) ? kTypeNumber | kTypeInteger : kTypeNumber;
  }
}

// "integer", "integer or string", "integer, string or null".
std::string one_of_names(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
    out += names[i];
  }
  return out;
}

class Validator {
 public:
  // A null sink means: stop at the first failure, word no message.
  explicit Validator(std::vector<RawError>* sink) : sink_(sink) {}

  bool check(const SchemaNode& node, const json& instance) {
    const std::size_t failures_before = failures_;
    if (depth_ >= kMaxDepth) {
      fail([] { return fmt::format("nested more than {} schema levels deep", kMaxDepth); });
      return false;
    }
    ++depth_;
    apply(node, instance);
    --depth_;
    return failures_ == failures_before;
  }

 private:
  // Keeps path_ in step with the instance location while a child is checked.
  class Descend {
   public:
    Descend(Validator& v, PathToken token) : v_(v) { v_.path_.push_back(std::move(token)); }
    ~Descend() { v_.path_.pop_back(); }
    Descend(const Descend&) = delete;
    Descend& operator=(const Descend&) = delete;

   private:
    Validator& v_;
  };

  bool collecting() const { return sink_ != nullptr; }
  bool stopped() const { return !collecting() && failures_ > 0; }

  // A message is built only when someone will read it (not in is_valid, nor
  // in a branch that is only tried), and out of line: inlined into the
  // recursive check/apply frames, the formatting temporaries cost kilobytes
  // of stack per nesting level in the ASan build. For the same reason the
  // keywords that do not recurse live in [[gnu::noinline]] functions.
  template <typename MakeMessage>
  [[gnu::noinline]] void fail(const MakeMessage& make_message) {
    ++failures_;
    if (collecting()) sink_->push_back({path_, make_message()});
  }

  bool check_child(const SchemaNode& node, const json& instance, PathToken token) {
    Descend d(*this, std::move(token));
    return check(node, instance);
  }

  // Runs a subschema whose errors are not the instance's errors (anyOf
  // branches, not, if, contains): they go to `sink`, or nowhere when null.
  bool check_isolated(const SchemaNode& node, const json& instance, std::vector<RawError>* sink) {
    std::vector<RawError>* saved_sink = std::exchange(sink_, sink);
    const std::size_t saved_failures = std::exchange(failures_, 0);
    const bool ok = check(node, instance);
    sink_ = saved_sink;
    failures_ = saved_failures;
    return ok;
  }

  bool matches(const SchemaNode& node, const json& instance) {
    return check_isolated(node, instance, nullptr);
  }

  void apply(const SchemaNode& node, const json& instance) {
    if (node.boolean.has_value()) {
      if (!*node.boolean) fail([] { return std::string("not allowed"); });
      return;
    }
    if (node.ref != nullptr) {
      check(*node.ref, instance);
      return;
    }
    apply_any_type(node, instance);
    if (stopped()) return;
    switch (instance.type()) {
      case json::value_t::number_integer:
      case json::value_t::number_unsigned:
      case json::value_t::number_float:
        apply_number(node, instance);
        break;
      case json::value_t::string:
        apply_string(node, instance);
        break;
      case json::value_t::array:
        apply_array(node, instance);
        break;
      case json::value_t::object:
        apply_object(node, instance);
        break;
      default:
        break;
    }
    if (stopped()) return;
    apply_combinators(node, instance);
  }

  [[gnu::noinline]] void apply_any_type(const SchemaNode& node, const json& instance) {
    if (node.types != 0 && (type_bits(instance) & node.types) == 0) {
      fail([&] {
        return fmt::format("expected {}, got {}", one_of_names(node.type_names),
                           type_name(instance));
      });
    }
    if (node.enum_values.has_value()) {
      const json& allowed = *node.enum_values;
      if (std::none_of(allowed.begin(), allowed.end(),
                       [&](const json& v) { return values_equal(v, instance); })) {
        fail([&] {
          return fmt::format("{} is not one of {}", short_dump(instance), short_dump(allowed));
        });
      }
    }
    if (node.const_value.has_value() && !values_equal(*node.const_value, instance)) {
      fail([&] {
        return fmt::format("must equal {}, got {}", short_dump(*node.const_value),
                           short_dump(instance));
      });
    }
  }

  [[gnu::noinline]] void apply_number(const SchemaNode& node, const json& number) {
    const auto bound = [&](const std::optional<json>& limit, const char* relation, auto violates) {
      if (limit.has_value() && violates(compare_numbers(number, *limit))) {
        fail([&] {
          return fmt::format("must be {} {}, got {}", relation, short_dump(*limit),
                             short_dump(number));
        });
      }
    };
    bound(node.minimum, ">=", [](int c) { return c < 0; });
    bound(node.exclusive_minimum, ">", [](int c) { return c <= 0; });
    bound(node.maximum, "<=", [](int c) { return c > 0; });
    bound(node.exclusive_maximum, "<", [](int c) { return c >= 0; });
    if (node.multiple_of.has_value() && !is_multiple_of(number, *node.multiple_of)) {
      fail([&] {
        return fmt::format("must be a multiple of {}, got {}", short_dump(*node.multiple_of),
                           short_dump(number));
      });
    }
  }

  [[gnu::noinline]] void apply_string(const SchemaNode& node, const json& string) {
    const auto& text = string.get_ref<const std::string&>();
    if (node.min_length.has_value() || node.max_length.has_value()) {
      const std::size_t length = count_code_points(text);
      if (node.min_length.has_value() && length < *node.min_length) {
        fail([&] {
          return fmt::format("must be at least {} long, got {}",
                             count_of(*node.min_length, "character"), length);
        });
      }
      if (node.max_length.has_value() && length > *node.max_length) {
        fail([&] {
          return fmt::format("must be at most {} long, got {}",
                             count_of(*node.max_length, "character"), length);
        });
      }
    }
    if (node.pattern.has_value() && !pattern_matches(*node.pattern, text)) {
      fail([&] {
        return fmt::format("{} does not match pattern {}", short_dump(string),
                           short_dump(json(node.pattern->source)));
      });
    }
  }

  void apply_array(const SchemaNode& node, const json& array) {
    apply_array_size(node, array.size());
    for (std::size_t i = 0; i < array.size() && !stopped(); ++i) {
      if (node.items != nullptr) {
        check_child(*node.items, array[i], i);
      } else if (i < node.tuple_items.size()) {
        check_child(*node.tuple_items[i], array[i], i);
      } else if (node.has_tuple_items && node.additional_items != nullptr) {
        if (node.additional_items->boolean == false) {
          fail_unexpected_item(node, i);
        } else {
          check_child(*node.additional_items, array[i], i);
        }
      }
    }
    if (node.contains != nullptr && std::none_of(array.begin(), array.end(), [&](const json& item) {
          return matches(*node.contains, item);
        })) {
      fail([] { return std::string("no item matches the \"contains\" schema"); });
    }
    if (node.unique_items) apply_unique_items(array);
  }

  [[gnu::noinline]] void apply_array_size(const SchemaNode& node, std::size_t size) {
    if (node.min_items.has_value() && size < *node.min_items) {
      fail([&] {
        return fmt::format("must have at least {}, got {}", count_of(*node.min_items, "item"),
                           size);
      });
    }
    if (node.max_items.has_value() && size > *node.max_items) {
      fail([&] {
        return fmt::format("must have at most {}, got {}", count_of(*node.max_items, "item"), size);
      });
    }
  }

  [[gnu::noinline]] void fail_unexpected_item(const SchemaNode& node, std::size_t index) {
    Descend d(*this, index);
    fail([&] {
      return fmt::format("unexpected item; at most {} allowed",
                         count_of(node.tuple_items.size(), "item"));
    });
  }

  // Sorting makes this O(n log n); a user may send large arrays.
  [[gnu::noinline]] void apply_unique_items(const json& array) {
    std::vector<std::size_t> order(array.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return compare_values(array[a], array[b]) < 0;
    });
    std::vector<std::pair<std::size_t, std::size_t>> duplicates;  // (index, first equal index)
    std::size_t run_start = 0;
    for (std::size_t k = 1; k < order.size(); ++k) {
      if (values_equal(array[order[k - 1]], array[order[k]])) {
        duplicates.emplace_back(order[k], order[run_start]);
      } else {
        run_start = k;
      }
    }
    std::sort(duplicates.begin(), duplicates.end());
    for (const auto& [index, first] : duplicates) {
      Descend d(*this, index);
      fail([&first = first] { return fmt::format("duplicate of item {}", first); });
      if (stopped()) return;
    }
  }

  void apply_object(const SchemaNode& node, const json& object) {
    apply_object_fields(node, object);
    for (const Dependency& dependency : node.dependencies) {
      if (stopped()) return;
      if (dependency.schema != nullptr && object.contains(dependency.field)) {
        check(*dependency.schema, object);
      }
    }
    for (auto it = object.begin(); it != object.end() && !stopped(); ++it) {
      apply_member(node, it.key(), it.value());
    }
  }

  // required, minProperties, maxProperties and the array form of dependencies.
  [[gnu::noinline]] void apply_object_fields(const SchemaNode& node, const json& object) {
    for (const std::string& name : node.required) {
      if (!object.contains(name)) {
        fail([&] { return fmt::format("missing required field {}", quoted(name)); });
      }
    }
    const std::size_t size = object.size();
    if (node.min_properties.has_value() && size < *node.min_properties) {
      fail([&] {
        return fmt::format("must have at least {}, got {}", count_of(*node.min_properties, "field"),
                           size);
      });
    }
    if (node.max_properties.has_value() && size > *node.max_properties) {
      fail([&] {
        return fmt::format("must have at most {}, got {}", count_of(*node.max_properties, "field"),
                           size);
      });
    }
    for (const Dependency& dependency : node.dependencies) {
      if (!object.contains(dependency.field)) continue;
      for (const std::string& name : dependency.required_fields) {
        if (!object.contains(name)) {
          fail([&] {
            return fmt::format("field {} requires field {}", quoted(dependency.field),
                               quoted(name));
          });
        }
      }
    }
  }

  void apply_member(const SchemaNode& node, const std::string& key, const json& value) {
    Descend d(*this, key);
    if (node.property_names != nullptr) apply_property_names(*node.property_names, key);
    bool declared = false;
    if (const auto it = node.properties.find(key); it != node.properties.end()) {
      declared = true;
      check(*it->second, value);
    }
    for (const PatternProperty& p : node.pattern_properties) {
      if (pattern_matches(p.pattern, key)) {
        declared = true;
        check(*p.schema, value);
      }
    }
    if (declared || node.additional_properties == nullptr) return;
    if (node.additional_properties->boolean == false) {
      fail([&] { return fmt::format("unknown field {}", quoted(key)); });
    } else {
      check(*node.additional_properties, value);
    }
  }

  [[gnu::noinline]] void apply_property_names(const SchemaNode& names, const std::string& key) {
    if (const auto why = mismatch(names, json(key))) {
      fail([&] { return "invalid field name: " + *why; });
    }
  }

  void apply_combinators(const SchemaNode& node, const json& instance) {
    for (const SchemaNode* branch : node.all_of) {
      if (stopped()) return;
      check(*branch, instance);
    }
    if (!node.any_of.empty() &&
        std::none_of(node.any_of.begin(), node.any_of.end(),
                     [&](const SchemaNode* branch) { return matches(*branch, instance); })) {
      fail([&] { return no_match_message(node.any_of, instance); });
    }
    if (!node.one_of.empty()) apply_one_of(node.one_of, instance);
    if (node.not_schema != nullptr && matches(*node.not_schema, instance)) {
      fail([] { return std::string("must not match the \"not\" schema"); });
    }
    if (node.if_schema != nullptr) {
      const SchemaNode* chosen =
          matches(*node.if_schema, instance) ? node.then_schema : node.else_schema;
      if (chosen != nullptr) check(*chosen, instance);
    }
  }

  void apply_one_of(const std::vector<const SchemaNode*>& branches, const json& instance) {
    std::vector<std::size_t> matched;
    for (std::size_t i = 0; i < branches.size() && matched.size() < 2; ++i) {
      if (matches(*branches[i], instance)) matched.push_back(i);
    }
    if (matched.empty()) {
      fail([&] { return no_match_message(branches, instance); });
    } else if (matched.size() > 1) {
      fail([&] {
        return fmt::format("matches more than one of the allowed shapes (oneOf branches {} and {})",
                           matched[0], matched[1]);
      });
    }
  }

  // When `instance` fails `node`, the first error's message ("" when not
  // collecting); nullopt when it matches.
  std::optional<std::string> mismatch(const SchemaNode& node, const json& instance) {
    if (!collecting()) {
      if (matches(node, instance)) return std::nullopt;
      return std::string();
    }
    std::vector<RawError> errors;
    if (check_isolated(node, instance, &errors)) return std::nullopt;
    sort_by_path(errors);
    return errors.empty() ? std::string() : errors.front().message;
  }

  // Names the branch that came closest: the one whose errors lie deepest in
  // the instance (it got furthest before failing), then the one with fewest.
  std::string no_match_message(const std::vector<const SchemaNode*>& branches,
                               const json& instance) {
    std::string message = "does not match any of the allowed shapes";
    if (explained_nesting_ >= kMaxExplainedNesting) return message;
    ++explained_nesting_;
    std::vector<RawError> best;
    std::size_t best_depth = 0;
    for (const SchemaNode* branch : branches) {
      std::vector<RawError> errors;
      check_isolated(*branch, instance, &errors);
      if (errors.empty()) continue;
      sort_by_path(errors);
      const std::size_t depth =
          std::min_element(errors.begin(), errors.end(), [](const RawError& a, const RawError& b) {
            return a.path.size() < b.path.size();
          })->path.size();
      if (best.empty() || depth > best_depth ||
          (depth == best_depth && errors.size() < best.size())) {
        best = std::move(errors);
        best_depth = depth;
      }
    }
    --explained_nesting_;
    if (best.empty()) return message;
    const RawError& first = best.front();
    message += "; closest: ";
    if (first.path != path_) message += pointer_of(first.path) + ": ";
    return message + first.message;
  }

  std::vector<RawError>* sink_;
  std::size_t failures_ = 0;
  Path path_;
  int depth_ = 0;
  int explained_nesting_ = 0;
};

}  // namespace

bool validate_instance(const SchemaNode& root, const json& instance,
                       std::vector<SchemaError>* errors) {
  if (errors == nullptr) return Validator(nullptr).check(root, instance);
  std::vector<RawError> raw;
  const bool ok = Validator(&raw).check(root, instance);
  sort_by_path(raw);
  // allOf branches may say the same thing about the same location: say it once.
  std::size_t same_path_start = errors->size();
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (i > 0 && raw[i].path != raw[i - 1].path) same_path_start = errors->size();
    SchemaError error{pointer_of(raw[i].path), std::move(raw[i].message)};
    if (std::find(errors->begin() + static_cast<std::ptrdiff_t>(same_path_start), errors->end(),
                  error) == errors->end()) {
      errors->push_back(std::move(error));
    }
  }
  return ok;
}

}  // namespace lowbit::protocol::schema_detail
