#include "cli/progress_bar.h"

#include <fmt/format.h>

#include <cmath>

namespace lowbit::cli {

std::string ProgressBar::render(long finished, long total, long failed, double elapsed_s) {
  constexpr int kWidth = 30;
  const double share = total > 0 ? static_cast<double>(finished) / static_cast<double>(total) : 1.0;
  const int filled = static_cast<int>(std::lround(share * kWidth));
  // Seconds left at the rate so far; -1 while nothing has finished to take a rate from.
  const long left_s = finished >= total ? 0
                      : finished > 0    ? std::lround(elapsed_s / static_cast<double>(finished) *
                                                      static_cast<double>(total - finished))
                                        : -1;
  const std::string eta = left_s < 0     ? fmt::format("?")
                          : left_s >= 60 ? fmt::format("{}m{:02}s", left_s / 60, left_s % 60)
                                         : fmt::format("{}s", left_s);
  std::string line =
      fmt::format("[{}{}] {}/{} jobs", std::string(static_cast<std::size_t>(filled), '#'),
                  std::string(static_cast<std::size_t>(kWidth - filled), '.'), finished, total);
  if (failed > 0) line += fmt::format(", {} failed", failed);
  return line + fmt::format("  ETA {}", eta);
}

void ProgressBar::update(long finished, long total, long failed, const std::string& note) {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::string line = render(finished, total, failed, elapsed);
  if (!note.empty()) line += "  " + note;
  if (terminal_) {
    out_ << "\r\x1b[2K" << line << std::flush;
  } else if (line.substr(0, line.find("ETA")) != last_.substr(0, last_.find("ETA"))) {
    out_ << line << '\n' << std::flush;  // a new line only when the count changed
  }
  last_ = line;
}

void ProgressBar::finish() {
  if (terminal_ && !last_.empty()) out_ << '\n' << std::flush;
}

}  // namespace lowbit::cli
