#include "router/ops/log.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace junction {
namespace {
log_level current = log_level::info;
constexpr const char* names[] = {"trace", "debug", "info", "warn", "error", "off"};
}  // namespace

bool parse_log_level(std::string_view text, log_level& out) noexcept {
  for (int i = 0; i <= static_cast<int>(log_level::off); ++i)
    if (text == names[i]) {
      out = static_cast<log_level>(i);
      return true;
    }
  return false;
}

void set_log_level(log_level level) noexcept { current = level; }
bool log_enabled(log_level level) noexcept { return level >= current && level != log_level::off; }

void log_write(log_level level, const std::string& line) {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  std::fprintf(stderr, "%s.%03dZ %-5s %s\n", stamp, static_cast<int>(ms.count()),
               names[static_cast<int>(level)], line.c_str());
}

}  // namespace junction
