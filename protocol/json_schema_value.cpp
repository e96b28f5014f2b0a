// Exact number arithmetic and value comparison for the validator. nlohmann
// keeps integers and floats apart (and compares them through double), while
// JSON Schema sees one kind of number: these helpers give the schema view.

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>

#include "protocol/json_schema_node.h"

namespace lowbit::protocol::schema_detail {
namespace {

// Every int64, uint64 and double converts to long double without rounding
// when the mantissa has at least 64 bits (x86-64 and AArch64 Linux do).
static_assert(std::numeric_limits<long double>::digits >= 64,
              "exact number comparison needs a 64-bit long double mantissa");

long double exact_value(const json& number) {
  switch (number.type()) {
    case json::value_t::number_integer:
      return static_cast<long double>(number.get<std::int64_t>());
    case json::value_t::number_unsigned:
      return static_cast<long double>(number.get<std::uint64_t>());
    default:
      return static_cast<long double>(number.get<double>());
  }
}

// |value| = digits * 10^exponent, with no trailing zeros in `digits`.
struct Decimal {
  std::uint64_t digits = 0;
  int exponent = 0;
};

Decimal normalized(Decimal d) {
  while (d.digits != 0 && d.digits % 10 == 0) {
    d.digits /= 10;
    ++d.exponent;
  }
  return d;
}

// The shortest decimal that reads back as the same double: for a number
// written in JSON with at most 15 significant digits, exactly what was written.
Decimal to_decimal(const json& number) {
  if (number.is_number_unsigned()) return normalized({number.get<std::uint64_t>(), 0});
  if (number.is_number_integer()) {
    const std::int64_t v = number.get<std::int64_t>();
    // Negate in unsigned arithmetic: -INT64_MIN does not fit an int64.
    const std::uint64_t magnitude =
        v < 0 ? std::uint64_t{0} - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
    return normalized({magnitude, 0});
  }
  // "d.ddddde+XX": at most 17 significant digits, so they fit a uint64.
  std::array<char, 64> text{};
  const auto [end, ec] =
      std::to_chars(text.data(), text.data() + text.size(), std::fabs(number.get<double>()),
                    std::chars_format::scientific);
  if (ec != std::errc{}) return {};  // cannot happen: the buffer fits any double
  Decimal d;
  int fraction_digits = 0;
  bool in_fraction = false;
  const char* p = text.data();
  for (; p != end && *p != 'e'; ++p) {
    if (*p == '.') {
      in_fraction = true;
      continue;
    }
    d.digits = d.digits * 10 + static_cast<std::uint64_t>(*p - '0');
    if (in_fraction) ++fraction_digits;
  }
  int exponent = 0;
  if (p != end) std::from_chars(p + (p[1] == '+' ? 2 : 1), end, exponent);
  d.exponent = exponent - fraction_digits;
  return normalized(d);
}

constexpr int kValueRankNumber = 2;

int value_rank(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return 0;
    case json::value_t::boolean:
      return 1;
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      return kValueRankNumber;
    case json::value_t::string:
      return 3;
    case json::value_t::array:
      return 4;
    case json::value_t::object:
      return 5;
    default:  // binary and discarded values never come out of a JSON parse
      return 6;
  }
}

int sign(int v) { return (v > 0) - (v < 0); }

// Longest dump kept in a message; a value longer than this is cut with "...".
constexpr std::size_t kMaxDumpBytes = 80;

}  // namespace

int compare_numbers(const json& a, const json& b) {
  const long double x = exact_value(a);
  const long double y = exact_value(b);
  return (x > y) - (x < y);
}

int compare_values(const json& a, const json& b) {
  const int rank_a = value_rank(a);
  const int rank_b = value_rank(b);
  if (rank_a != rank_b) return rank_a < rank_b ? -1 : 1;
  switch (a.type()) {
    case json::value_t::null:
      return 0;
    case json::value_t::boolean:
      return static_cast<int>(a.get<bool>()) - static_cast<int>(b.get<bool>());
    case json::value_t::string:
      return sign(a.get_ref<const json::string_t&>().compare(b.get_ref<const json::string_t&>()));
    case json::value_t::array: {
      const std::size_t n = std::min(a.size(), b.size());
      for (std::size_t i = 0; i < n; ++i) {
        if (const int c = compare_values(a[i], b[i]); c != 0) return c;
      }
      return (a.size() > b.size()) - (a.size() < b.size());
    }
    case json::value_t::object: {
      // Objects iterate in key order, so walking both side by side compares
      // them as sorted (key, value) lists.
      auto it_a = a.begin();
      auto it_b = b.begin();
      for (; it_a != a.end() && it_b != b.end(); ++it_a, ++it_b) {
        if (const int c = sign(it_a.key().compare(it_b.key())); c != 0) return c;
        if (const int c = compare_values(*it_a, *it_b); c != 0) return c;
      }
      return (it_a != a.end()) - (it_b != b.end());
    }
    default:
      if (rank_a == kValueRankNumber) return compare_numbers(a, b);
      return 0;
  }
}

bool is_integral(const json& number) {
  if (!number.is_number_float()) return number.is_number();
  const double v = number.get<double>();
  return std::isfinite(v) && std::trunc(v) == v;
}

bool is_multiple_of(const json& value, const json& divisor) {
  const Decimal x = to_decimal(value);
  const Decimal m = to_decimal(divisor);
  if (x.digits == 0) return true;
  if (m.digits == 0) return false;  // the compiler rejects multipleOf <= 0
  using u128 = unsigned __int128;
  const int shift = x.exponent - m.exponent;
  if (shift >= 0) {
    // x/m = (x.digits * 10^shift) / m.digits: check the numerator mod m.digits.
    u128 rem = x.digits % m.digits;
    for (int i = 0; i < shift && rem != 0; ++i) rem = rem * 10 % m.digits;
    return rem == 0;
  }
  // x/m = x.digits / (m.digits * 10^-shift). x.digits < 2^64 < 10^20, so a
  // denominator with 20 or more digits cannot divide it; up to 10^19 it stays
  // below 2^64 * 10^19 < 2^128.
  constexpr int kMaxUsefulShift = 19;
  if (-shift > kMaxUsefulShift) return false;
  u128 denominator = m.digits;
  for (int i = 0; i < -shift; ++i) denominator *= 10;
  return u128{x.digits} % denominator == 0;
}

std::size_t count_code_points(std::string_view utf8) {
  // Every code point has exactly one byte that is not a continuation byte.
  return static_cast<std::size_t>(std::count_if(utf8.begin(), utf8.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

std::string short_dump(const json& value) {
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() <= kMaxDumpBytes) return text;
  std::size_t cut = kMaxDumpBytes;
  // Do not split a UTF-8 sequence: back up to the start of a code point.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  text.resize(cut);
  text += "...";
  return text;
}

std::string escape_pointer_token(std::string_view token) {
  std::string out;
  out.reserve(token.size());
  for (const char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace lowbit::protocol::schema_detail
