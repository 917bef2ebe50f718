#pragma once
// Forced into every translation unit of the fuzz build (CMakeLists.txt) when clang++ is older
// than 15: libstdc++'s <source_location> needs __builtin_source_location, which clang 14
// (Debian 12's) lacks, so std::source_location would not exist. This stands in for it with
// the builtins clang 14 has (evaluated at the call site as default arguments, like the real
// one). Test builds only; the normal build (g++) never sees it.
#include <cstdint>
#include <version>

#if defined(__clang__) && !__has_builtin(__builtin_source_location)
namespace std {
struct source_location {
  static constexpr source_location current(const char* file = __builtin_FILE(), const char* function = __builtin_FUNCTION(),
                                           uint_least32_t line = __builtin_LINE()) noexcept {
    source_location s;
    s.file_ = file;
    s.function_ = function;
    s.line_ = line;
    return s;
  }
  constexpr source_location() noexcept = default;
  constexpr uint_least32_t line() const noexcept { return line_; }
  constexpr uint_least32_t column() const noexcept { return 0; }
  constexpr const char* file_name() const noexcept { return file_; }
  constexpr const char* function_name() const noexcept { return function_; }

 private:
  const char* file_ = "";
  const char* function_ = "";
  uint_least32_t line_ = 0;
};
}  // namespace std
#endif
