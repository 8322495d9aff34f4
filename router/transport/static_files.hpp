// router/transport/static_files.hpp — a listener's `web` mounts (issue 18, point 4): a team hosts
// its browser app on the port of its WAMP endpoint. Plain file reads on the connection's loop
// (the files are a web app's: small, and in the page cache after the first request); bounded.
//
// Safety: the path after the mount is percent-decoded once and split at '/'; a segment that is
// empty, ".", "..", starts with '.' (hidden files: .git, .env) or holds a NUL or a backslash is
// refused (404), and the file found must resolve (realpath, so symlinks included) inside the
// mount's directory. Only GET and HEAD; ETag (size and mtime) for revalidation; nothing is listed.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "router/ops/config.hpp"

namespace junction::web {

struct answer {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::string headers;  // extra header lines, each ending in \r\n
};

// The largest file served (a larger one is 500: it belongs on a CDN, not in a router's memory).
inline constexpr std::size_t max_file_size = std::size_t{32} << 20;

// Whether `path` is `mount_path` or below it ("/app" holds "/app" and "/app/x", not "/apps").
[[nodiscard]] bool under(std::string_view mount_path, std::string_view path) noexcept;

// The mount serving `path` (a request's path, without its query): the longest `path` prefix that
// ends at a '/' or at the end; nullptr if none.
[[nodiscard]] const web_mount* find_mount(const std::vector<web_mount>& mounts, std::string_view path);

// Answers `method` `path` from mount `m`. `if_none_match`: the request's If-None-Match ("" if
// none).
[[nodiscard]] answer serve(const web_mount& m, std::string_view method, std::string_view path,
                           std::string_view if_none_match);

// "text/html; charset=utf-8" for "index.html", ...; application/octet-stream when unknown.
[[nodiscard]] std::string_view content_type_of(std::string_view filename) noexcept;

}  // namespace junction::web
