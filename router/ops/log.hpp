// router/ops/log.hpp — the router's log: one line per event on standard error, for people
// (text) or machines (JSON lines), never secrets or payloads.
//
//   JLOG(info) << "protocol violation: " << text << log_field("session", id) << log_field("peer", p);
//
// A line is a message plus structured fields (session, realm, peer, authid, ...). Text lines show
// the fields as ` key=value` after the message; JSON lines carry them as members
// ({"time":..., "level":..., "message":..., "session":123, "peer":"..."}).
//
// Repeated lines are rate-limited so that a misbehaving client cannot flood the log: lines of
// level info and above with the same level and message (fields aside) are written at most
// `burst` times per window; the rest are counted and summarised once the window has passed
// ("... (37 similar lines suppressed in 10 s)"). Put what varies per client in fields, not in
// the message, so that similar events share a key.
#pragma once

#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace junction {

enum class log_level { trace, debug, info, warn, error, off };
enum class log_output { text, json };

// Parses "trace|debug|info|warn|error|off"; false when unknown.
bool parse_log_level(std::string_view text, log_level& out) noexcept;
void set_log_level(log_level level) noexcept;
void set_log_output(log_output format) noexcept;
[[nodiscard]] bool log_enabled(log_level level) noexcept;

// One structured field of a log line. Numbers stay numbers in JSON.
struct log_field {
  template <class T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
  log_field(std::string_view k, T v) : key(k), value(std::to_string(v)), number(true) {}
  log_field(std::string_view k, std::string_view v) : key(k), value(v) {}
  log_field(std::string_view k, const char* v) : key(k), value(v) {}
  log_field(std::string_view k, const std::string& v) : key(k), value(v) {}
  std::string key;
  std::string value;
  bool number = false;
};

// Appends `s` as a JSON string (quotes, escapes): the JSON log's, and the router's few other bits
// of hand-built JSON (the bridge's refusals, the console's info.json).
void append_json_string(std::string& out, std::string_view s);

// Writes one line (rate-limited as described above).
void log_write(log_level level, const std::string& message, const std::vector<log_field>& fields);

// Writes the summaries of suppressed lines whose window has passed (called periodically, so a
// flood that stops is still accounted for).
void log_flush_suppressed();

// The rate limit: at most `burst` similar lines per `window_ms` (defaults 5 per 10 s).
void set_log_rate_limit(unsigned burst, unsigned window_ms) noexcept;
// Where lines go (tests); nullptr restores standard error.
using log_sink = void (*)(const std::string& line);
void set_log_sink(log_sink sink) noexcept;

namespace detail {
class log_line {
 public:
  explicit log_line(log_level level) : level_(level) {}
  ~log_line() { log_write(level_, stream_.str(), fields_); }
  log_line(const log_line&) = delete;
  log_line& operator=(const log_line&) = delete;

  template <class T>
  log_line& operator<<(const T& v) {
    stream_ << v;
    return *this;
  }
  log_line& operator<<(log_field f) {
    fields_.push_back(std::move(f));
    return *this;
  }

 private:
  log_level level_;
  std::ostringstream stream_;
  std::vector<log_field> fields_;
};
}  // namespace detail

}  // namespace junction

// JLOG(info) << "listening on " << url;  — the line is built only when the level is on.
// A for-loop rather than if/else, so that JLOG under an unbraced `if` cannot steal its `else`.
#define JLOG(level)                                                                         \
  for (bool jlog_once_ = ::junction::log_enabled(::junction::log_level::level); jlog_once_; \
       jlog_once_ = false)                                                                  \
  ::junction::detail::log_line(::junction::log_level::level)
