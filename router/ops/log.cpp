#include "router/ops/log.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <unordered_map>

namespace junction {
namespace {

log_level current = log_level::info;
log_output output = log_output::text;
log_sink sink = nullptr;
unsigned burst = 5;
std::chrono::milliseconds window{10000};
constexpr const char* names[] = {"trace", "debug", "info", "warn", "error", "off"};
// The table of recent messages is bounded: when full it starts over (a flood of distinct
// messages is then limited by nothing but their variety, which the fields keep small).
constexpr std::size_t max_keys = 4096;

struct recent {
  std::chrono::steady_clock::time_point since;
  unsigned written = 0;
  unsigned suppressed = 0;
};

std::mutex mutex;  // lines come from one thread today; the lock keeps them whole later
std::unordered_map<std::string, recent> seen;


std::string timestamp() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[40];
  const std::size_t n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(stamp + n, sizeof stamp - n, ".%03dZ", static_cast<int>(ms.count()));
  return stamp;
}

std::string format(log_level level, const std::string& message, const std::vector<log_field>& fields) {
  std::string line;
  if (output == log_output::json) {
    line = "{\"time\":\"" + timestamp() + "\",\"level\":\"" + names[static_cast<int>(level)] +
           "\",\"message\":";
    append_json_string(line, message);
    for (const log_field& f : fields) {
      line += ',';
      append_json_string(line, f.key);
      line += ':';
      if (f.number) {
        line += f.value;
      } else {
        append_json_string(line, f.value);
      }
    }
    line += '}';
    return line;
  }
  char head[64];
  std::snprintf(head, sizeof head, "%s %-5s ", timestamp().c_str(), names[static_cast<int>(level)]);
  line = head + message;
  for (const log_field& f : fields) {
    line += ' ';
    line += f.key;
    line += '=';
    const bool plain = !f.value.empty() && f.value.find_first_of(" \"=") == std::string::npos;
    if (plain) {
      line += f.value;
    } else {
      append_json_string(line, f.value);
    }
  }
  return line;
}

void emit(const std::string& line) {
  if (sink != nullptr) {
    sink(line);
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

bool parse_log_level(std::string_view text, log_level& out) noexcept {
  for (int i = 0; i <= static_cast<int>(log_level::off); ++i)
    if (text == names[i]) {
      out = static_cast<log_level>(i);
      return true;
    }
  return false;
}

void set_log_level(log_level level) noexcept { current = level; }
void set_log_output(log_output format) noexcept { output = format; }
bool log_enabled(log_level level) noexcept { return level >= current && level != log_level::off; }
void set_log_sink(log_sink s) noexcept { sink = s; }

void set_log_rate_limit(unsigned b, unsigned window_ms) noexcept {
  const std::lock_guard<std::mutex> lock(mutex);
  burst = b;
  window = std::chrono::milliseconds(window_ms);
  seen.clear();
}

namespace {
// Says how many lines of one key were suppressed in its window (caller holds the lock).
void summarise(const std::string& key, recent& r) {
  if (r.suppressed == 0) return;
  const auto level = static_cast<log_level>(key[0] - '0');
  const std::vector<log_field> fields{{"suppressed", r.suppressed}};
  emit(format(level,
              key.substr(1) + " (" + std::to_string(r.suppressed) + " similar lines suppressed in " +
                  std::to_string(window.count() / 1000) + " s)",
              fields));
  r.suppressed = 0;
}
}  // namespace

void log_flush_suppressed() {
  const std::lock_guard<std::mutex> lock(mutex);
  const auto now = std::chrono::steady_clock::now();
  for (auto it = seen.begin(); it != seen.end();) {
    if (now - it->second.since < window) {
      ++it;
      continue;
    }
    summarise(it->first, it->second);
    it = seen.erase(it);
  }
}

void log_write(log_level level, const std::string& message, const std::vector<log_field>& fields) {
  const std::lock_guard<std::mutex> lock(mutex);
  if (level >= log_level::info && burst > 0) {
    const auto now = std::chrono::steady_clock::now();
    if (seen.size() >= max_keys) seen.clear();
    std::string key(1, static_cast<char>('0' + static_cast<int>(level)));
    key += message;
    recent& r = seen[key];
    if (r.written == 0 || now - r.since >= window) {
      summarise(key, r);
      r = recent{now, 0, 0};
    }
    if (r.written >= burst) {
      ++r.suppressed;
      return;
    }
    ++r.written;
  }
  emit(format(level, message, fields));
}

}  // namespace junction
