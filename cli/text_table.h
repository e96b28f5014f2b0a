#pragma once
// A plain-text table with columns sized to their widest cell, for terminals
// and logs: numbers right-aligned, text left-aligned. Widths count code
// points, so "Δ" and "µs" line up.

#include <ostream>
#include <string>
#include <vector>

namespace lowbit::cli {

class TextTable {
 public:
  enum class Align { kLeft, kRight };
  struct Column {
    std::string header;
    Align align = Align::kLeft;
  };

  explicit TextTable(std::vector<Column> columns) : columns_(std::move(columns)) {}
  // Missing trailing cells print empty; extra cells are an error (std::invalid_argument).
  void add_row(std::vector<std::string> cells);
  void print(std::ostream& out) const;

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

// Display width of UTF-8 text in code points (no wide characters in our tables).
std::size_t display_width(const std::string& text);

}  // namespace lowbit::cli
