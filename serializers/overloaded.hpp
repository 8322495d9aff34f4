// serializers/overloaded.hpp — the `overloaded{}` helper for std::visit dispatch (DESIGN.md §5).
#pragma once

namespace junction {

template <class... Ts>
struct overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
overloaded(Ts...) -> overloaded<Ts...>;

}  // namespace junction
