// router/ops/log.hpp — a small leveled logger to stderr. One line per event, never secrets.
#pragma once

#include <sstream>
#include <string>
#include <string_view>

namespace junction {

enum class log_level { trace, debug, info, warn, error, off };

// Parses "trace|debug|info|warn|error|off"; false when unknown.
bool parse_log_level(std::string_view text, log_level& out) noexcept;
void set_log_level(log_level level) noexcept;
[[nodiscard]] bool log_enabled(log_level level) noexcept;
void log_write(log_level level, const std::string& line);

}  // namespace junction

// JLOG(info) << "listening on " << port;  — the stream is built only when the level is on.
// A for-loop rather than if/else, so that JLOG under an unbraced `if` cannot steal its `else`.
#define JLOG(level)                                                                  \
  for (bool jlog_once_ = ::junction::log_enabled(::junction::log_level::level); jlog_once_; \
       jlog_once_ = false)                                                           \
  ::junction::detail::log_line(::junction::log_level::level).stream()

namespace junction::detail {
class log_line {
 public:
  explicit log_line(log_level level) : level_(level) {}
  ~log_line() { log_write(level_, stream_.str()); }
  std::ostringstream& stream() { return stream_; }

 private:
  log_level level_;
  std::ostringstream stream_;
};
}  // namespace junction::detail
