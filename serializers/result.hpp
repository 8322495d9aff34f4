// serializers/result.hpp — result<T>: a value or an error, for fallible internal operations.
// (The WAMP RESULT message struct is therefore named result_, like register_.)
// Exceptions are for startup and broken invariants only (DESIGN.md §5).
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace junction {

// What went wrong, in words a peer can read (it ends up in ABORT/ERROR Details.message).
struct failure {
  std::string message;
};

template <class T>
class result {
 public:
  result(T v) : v_(std::in_place_index<0>, std::move(v)) {}          // NOLINT: implicit on purpose
  result(failure f) : v_(std::in_place_index<1>, std::move(f)) {}    // NOLINT

  [[nodiscard]] bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }
  T& operator*() & { return std::get<0>(v_); }
  const T& operator*() const& { return std::get<0>(v_); }
  T&& operator*() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  [[nodiscard]] const failure& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, failure> v_;
};

inline failure fail(std::string message) { return failure{std::move(message)}; }

}  // namespace junction
