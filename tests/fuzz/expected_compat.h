// Force-included (-include) into fuzz targets only.
//
// libFuzzer needs clang, and libstdc++ 12 (Debian 12) hides <expected> from
// clang before 19: the header requires __cpp_concepts >= 202002L, and clang
// 14 also lacks conditionally trivial destructors (P0848), so the header
// cannot be forced on either. When the standard library has no
// std::expected, this file supplies the subset hull uses (construction from a
// value or std::unexpected, bool test, *, ->, value(), error(), value_or).
// With a library that has it, it only includes <version> and does nothing.
#pragma once

#include <version>

#if !defined(__cpp_lib_expected)

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

// Declaring these in std is what the real header does; this stands in for it
// in a test-only build, never in a shipped binary.
namespace std {  // NOLINT(cert-dcl58-cpp)

template <class E>
class unexpected {
 public:
  template <class G = E>
  requires(!is_same_v<remove_cvref_t<G>, unexpected> &&
           is_constructible_v<E, G>) constexpr explicit unexpected(G&& e)
      : e_(std::forward<G>(e)) {}
  constexpr E& error() & noexcept { return e_; }
  constexpr const E& error() const& noexcept { return e_; }
  constexpr E&& error() && noexcept { return std::move(e_); }

 private:
  E e_;
};

template <class E>
unexpected(E) -> unexpected<E>;

namespace hull_compat {
template <class T>
struct is_unexpected : false_type {};
template <class E>
struct is_unexpected<unexpected<E>> : true_type {};

[[noreturn]] inline void no_value() {
  std::fputs("expected_compat: value() on an error\n", stderr);
  std::abort();
}
}  // namespace hull_compat

template <class T, class E>
class expected {
 public:
  using value_type = T;
  using error_type = E;

  constexpr expected() requires is_default_constructible_v<T> : v_(in_place_index<0>) {}
  template <class U = T>
  requires(!is_same_v<remove_cvref_t<U>, expected> &&
           !hull_compat::is_unexpected<remove_cvref_t<U>>::value &&
           is_constructible_v<T, U>) constexpr expected(U&& v)
      : v_(in_place_index<0>, std::forward<U>(v)) {}
  template <class G>
  constexpr expected(const unexpected<G>& u) : v_(in_place_index<1>, u.error()) {}
  template <class G>
  constexpr expected(unexpected<G>&& u) : v_(in_place_index<1>, std::move(u.error())) {}

  constexpr bool has_value() const noexcept { return v_.index() == 0; }
  constexpr explicit operator bool() const noexcept { return has_value(); }

  constexpr T& operator*() & { return std::get<0>(v_); }
  constexpr const T& operator*() const& { return std::get<0>(v_); }
  constexpr T&& operator*() && { return std::get<0>(std::move(v_)); }
  constexpr T* operator->() { return &std::get<0>(v_); }
  constexpr const T* operator->() const { return &std::get<0>(v_); }

  constexpr T& value() & { return has_value() ? **this : (hull_compat::no_value(), **this); }
  constexpr const T& value() const& {
    return has_value() ? **this : (hull_compat::no_value(), **this);
  }
  constexpr T&& value() && {
    if (!has_value()) hull_compat::no_value();
    return std::get<0>(std::move(v_));
  }
  template <class U>
  constexpr T value_or(U&& u) const& {
    return has_value() ? **this : static_cast<T>(std::forward<U>(u));
  }

  constexpr E& error() & { return std::get<1>(v_); }
  constexpr const E& error() const& { return std::get<1>(v_); }
  constexpr E&& error() && { return std::get<1>(std::move(v_)); }

 private:
  variant<T, E> v_;
};

template <class E>
class expected<void, E> {
 public:
  using value_type = void;
  using error_type = E;

  constexpr expected() = default;
  template <class G>
  constexpr expected(const unexpected<G>& u) : e_(in_place, u.error()) {}
  template <class G>
  constexpr expected(unexpected<G>&& u) : e_(in_place, std::move(u.error())) {}

  constexpr bool has_value() const noexcept { return !e_.has_value(); }
  constexpr explicit operator bool() const noexcept { return has_value(); }
  constexpr void operator*() const noexcept {}
  constexpr void value() const {
    if (!has_value()) hull_compat::no_value();
  }

  constexpr E& error() & { return *e_; }
  constexpr const E& error() const& { return *e_; }
  constexpr E&& error() && { return std::move(*e_); }

 private:
  optional<E> e_;
};

}  // namespace std

#endif  // !__cpp_lib_expected
