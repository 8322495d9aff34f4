// router/transport/static_files.cpp — see static_files.hpp.
#include "router/transport/static_files.hpp"

#include <sys/stat.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>

#include "serializers/percent.hpp"

namespace junction::web {

namespace {

// realpath(3), or "" if it does not resolve.
std::string resolved(const std::string& path) {
  std::unique_ptr<char, decltype(&std::free)> p(realpath(path.c_str(), nullptr), &std::free);
  return p ? std::string(p.get()) : std::string();
}

bool inside(const std::string& file, const std::string& root) {
  if (root == "/") return true;
  return file == root || (file.size() > root.size() && file.compare(0, root.size(), root) == 0 && file[root.size()] == '/');
}

answer not_found() { return answer{404, "text/plain; charset=utf-8", "not found\n", {}}; }

}  // namespace

bool under(std::string_view p, std::string_view path) noexcept {
  return p == "/" || path == p || (path.size() > p.size() && path.compare(0, p.size(), p) == 0 && path[p.size()] == '/');
}

const web_mount* find_mount(const std::vector<web_mount>& mounts, std::string_view path) {
  const web_mount* best = nullptr;
  for (const web_mount& m : mounts)
    if (under(m.path, path) && (best == nullptr || m.path.size() > best->path.size())) best = &m;
  return best;
}

std::string_view content_type_of(std::string_view name) noexcept {
  const std::size_t dot = name.rfind('.');
  if (dot == std::string_view::npos) return "application/octet-stream";
  const std::string_view ext = name.substr(dot + 1);
  struct entry {
    std::string_view ext, type;
  };
  static constexpr entry types[] = {
      {"html", "text/html; charset=utf-8"},  {"htm", "text/html; charset=utf-8"},
      {"js", "text/javascript; charset=utf-8"}, {"mjs", "text/javascript; charset=utf-8"},
      {"css", "text/css; charset=utf-8"},    {"json", "application/json"},
      {"map", "application/json"},           {"txt", "text/plain; charset=utf-8"},
      {"svg", "image/svg+xml"},              {"png", "image/png"},
      {"jpg", "image/jpeg"},                 {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},                  {"webp", "image/webp"},
      {"ico", "image/x-icon"},               {"wasm", "application/wasm"},
      {"woff2", "font/woff2"},               {"woff", "font/woff"},
      {"xml", "application/xml"},            {"pdf", "application/pdf"},
  };
  for (const entry& e : types)
    if (e.ext == ext) return e.type;
  return "application/octet-stream";
}

answer serve(const web_mount& m, std::string_view method, std::string_view path, std::string_view if_none_match) {
  if (method != "GET" && method != "HEAD")
    return answer{405, "text/plain; charset=utf-8", "method not allowed\n", "Allow: GET, HEAD\r\n"};
  const auto decoded = percent_decode(path.substr(m.path == "/" ? 0 : m.path.size()), false, bad_escape::fail);
  if (!decoded) return not_found();
  const std::string& rel = *decoded;
  // Each segment between slashes must be a plain name.
  const bool wants_directory = !path.empty() && path.back() == '/';
  std::size_t at = 0;
  while (at < rel.size()) {
    if (rel[at] == '/') {
      ++at;
      continue;
    }
    const std::size_t end = std::min(rel.find('/', at), rel.size());
    const std::string_view seg(rel.data() + at, end - at);
    if (seg.front() == '.' || seg.find('\0') != std::string_view::npos || seg.find('\\') != std::string_view::npos)
      return not_found();
    at = end;
  }
  const std::string root = resolved(m.directory);
  if (root.empty()) return answer{500, "text/plain; charset=utf-8", "the web directory is missing\n", {}};
  std::string file = resolved(root + "/" + rel);
  if (file.empty() || !inside(file, root)) return not_found();
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return not_found();
  if (S_ISDIR(st.st_mode)) {
    if (!wants_directory) {  // "/app/docs" → "/app/docs/", so the page's relative links work
      return answer{301, "text/plain; charset=utf-8", "moved\n",
                    "Location: " + std::string(path) + "/\r\n"};
    }
    file = resolved(file + "/" + m.index);
    if (file.empty() || !inside(file, root) || ::stat(file.c_str(), &st) != 0) return not_found();
  }
  if (!S_ISREG(st.st_mode)) return not_found();
  if (static_cast<std::uint64_t>(st.st_size) > max_file_size)
    return answer{500, "text/plain; charset=utf-8", "file too large to serve\n", {}};
  char etag[64];
  std::snprintf(etag, sizeof etag, "\"%llx-%llx\"", static_cast<unsigned long long>(st.st_size),
                static_cast<unsigned long long>(st.st_mtim.tv_sec) * 1000000000ULL +
                    static_cast<unsigned long long>(st.st_mtim.tv_nsec));
  std::string headers = std::string("ETag: ") + etag + "\r\n";
  headers += m.max_age_s > 0 ? "Cache-Control: public, max-age=" + std::to_string(m.max_age_s) + "\r\n"
                             : std::string("Cache-Control: no-cache\r\n");
  headers += "X-Content-Type-Options: nosniff\r\n";
  if (!if_none_match.empty() && (if_none_match == etag || if_none_match == "*" ||
                                 if_none_match.find(etag) != std::string_view::npos))
    return answer{304, std::string(content_type_of(file)), {}, headers};
  std::ifstream in(file, std::ios::binary);
  if (!in) return not_found();
  std::string body(static_cast<std::size_t>(st.st_size), '\0');
  if (!body.empty() && !in.read(body.data(), static_cast<std::streamsize>(body.size())))
    return answer{500, "text/plain; charset=utf-8", "the file could not be read\n", {}};
  return answer{200, std::string(content_type_of(file)), std::move(body), std::move(headers)};
}

}  // namespace junction::web
