#include "rpc/param_reader.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace nvmfd {

struct param_reader::state {
  struct scope {
    const json* obj;     // always an object
    std::string prefix;  // "" or "listen_address."
    std::vector<std::string> read;
  };
  std::optional<error> first_error;
  std::vector<scope> scopes;
};

namespace {

const json& empty_object() {
  static const json e = json::object();
  return e;
}

// A short rendering of a bad value for messages: strings quoted, long values cut.
std::string brief(const json& v) {
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > 64) s = s.substr(0, 61) + "...";
  return s;
}

}  // namespace

param_reader::param_reader(const json& params) : st_(std::make_shared<state>()), scope_(0) {
  if (params.is_null() || params.is_object()) {
    st_->scopes.push_back({params.is_null() ? &empty_object() : &params, "", {}});
  } else {
    st_->scopes.push_back({&empty_object(), "", {}});
    st_->first_error = error{errc::invalid_argument,
                             fmt::format("params: expected object, got {}", params.type_name())};
  }
}

param_reader::param_reader(std::shared_ptr<state> st, size_t scope)
    : st_(std::move(st)), scope_(scope) {}

std::string param_reader::path(std::string_view name) const {
  return st_->scopes[scope_].prefix + std::string(name);
}

void param_reader::fail(std::string_view name, std::string_view problem) {
  if (st_->first_error) return;
  st_->first_error = error{errc::invalid_argument, fmt::format("{}: {}", path(name), problem)};
}

void param_reader::fail_type(std::string_view name, const char* expected, const json& got) {
  if (got.is_string() || got.is_number()) {
    fail(name, fmt::format("expected {}, got {} {}", expected, got.type_name(), brief(got)));
  } else {
    fail(name, fmt::format("expected {}, got {}", expected, got.type_name()));
  }
}

bool param_reader::ok() const { return !st_->first_error; }

bool param_reader::has(std::string_view name) const {
  const json& obj = *st_->scopes[scope_].obj;
  auto it = obj.find(std::string(name));
  return it != obj.end() && !it->is_null();
}

const json* param_reader::get(std::string_view name, bool required) {
  auto& sc = st_->scopes[scope_];
  std::string key(name);
  if (std::find(sc.read.begin(), sc.read.end(), key) == sc.read.end()) sc.read.push_back(key);
  if (st_->first_error) return nullptr;
  auto it = sc.obj->find(key);
  if (it == sc.obj->end() || it->is_null()) {
    if (required) fail(name, "required parameter missing");
    return nullptr;
  }
  return &*it;
}

std::optional<std::string> param_reader::optional_string(std::string_view name) {
  const json* v = get(name, false);
  if (!v) return std::nullopt;
  if (v->is_number_integer()) return v->dump();  // see header: "trsvcid": 4420
  if (!v->is_string()) {
    fail_type(name, "string", *v);
    return std::nullopt;
  }
  return v->get<std::string>();
}

std::string param_reader::required_string(std::string_view name) {
  if (!get(name, true)) return {};  // records "missing"; the re-read below finds it present
  return optional_string(name).value_or(std::string());
}

std::optional<uint64_t> param_reader::optional_uint(std::string_view name, uint64_t max) {
  const json* v = get(name, false);
  if (!v) return std::nullopt;
  // JSON text gives non-negative integers as unsigned; json built in C++ from an int
  // (a default config, a test) holds them as signed.
  if (!v->is_number_unsigned() && !(v->is_number_integer() && v->get<int64_t>() >= 0)) {
    fail_type(name, "unsigned integer", *v);
    return std::nullopt;
  }
  uint64_t x = v->get<uint64_t>();
  if (x > max) {
    fail(name, fmt::format("{} out of range (max {})", x, max));
    return std::nullopt;
  }
  return x;
}

uint64_t param_reader::required_uint(std::string_view name, uint64_t max) {
  if (!get(name, true)) return 0;
  return optional_uint(name, max).value_or(0);
}

std::optional<int64_t> param_reader::optional_int(std::string_view name, int64_t min,
                                                  int64_t max) {
  const json* v = get(name, false);
  if (!v) return std::nullopt;
  if (!v->is_number_integer()) {  // true for both signed and unsigned JSON integers
    fail_type(name, "integer", *v);
    return std::nullopt;
  }
  if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(max)) {
    fail(name, fmt::format("{} out of range (max {})", v->get<uint64_t>(), max));
    return std::nullopt;
  }
  int64_t x = v->get<int64_t>();
  if (x < min || x > max) {
    fail(name, fmt::format("{} out of range ({}..{})", x, min, max));
    return std::nullopt;
  }
  return x;
}

int64_t param_reader::required_int(std::string_view name, int64_t min, int64_t max) {
  if (!get(name, true)) return 0;
  return optional_int(name, min, max).value_or(0);
}

std::optional<bool> param_reader::optional_bool(std::string_view name) {
  const json* v = get(name, false);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) {
    fail_type(name, "boolean", *v);
    return std::nullopt;
  }
  return v->get<bool>();
}

bool param_reader::required_bool(std::string_view name) {
  if (!get(name, true)) return false;
  return optional_bool(name).value_or(false);
}

std::optional<std::string> param_reader::optional_enum(
    std::string_view name, std::initializer_list<std::string_view> allowed) {
  auto s = optional_string(name);
  if (!s) return std::nullopt;
  if (std::find(allowed.begin(), allowed.end(), *s) == allowed.end()) {
    fail(name, fmt::format("expected one of {}, got {}", fmt::join(allowed, ", "), brief(*s)));
    return std::nullopt;
  }
  return s;
}

std::string param_reader::required_enum(std::string_view name,
                                        std::initializer_list<std::string_view> allowed) {
  if (!get(name, true)) return {};
  return optional_enum(name, allowed).value_or(std::string());
}

std::optional<std::vector<std::string>> param_reader::optional_string_array(
    std::string_view name) {
  const json* v = get(name, false);
  if (!v) return std::nullopt;
  if (!v->is_array()) {
    fail_type(name, "array of strings", *v);
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < v->size(); ++i) {
    if (!(*v)[i].is_string()) {
      fail(fmt::format("{}[{}]", name, i),
           fmt::format("expected string, got {}", (*v)[i].type_name()));
      return std::nullopt;
    }
    out.push_back((*v)[i].get<std::string>());
  }
  return out;
}

const json* param_reader::required_object(std::string_view name) {
  const json* v = get(name, true);
  if (v && !v->is_object()) {
    fail_type(name, "object", *v);
    return nullptr;
  }
  return v;
}

const json* param_reader::required_array(std::string_view name) {
  const json* v = get(name, true);
  if (v && !v->is_array()) {
    fail_type(name, "array", *v);
    return nullptr;
  }
  return v;
}

const json* param_reader::optional_value(std::string_view name) { return get(name, false); }

param_reader param_reader::sub(std::string_view name) {
  const json* v = required_object(name);
  st_->scopes.push_back({v ? v : &empty_object(), path(name) + ".", {}});
  return param_reader(st_, st_->scopes.size() - 1);
}

std::optional<param_reader> param_reader::optional_sub(std::string_view name) {
  if (!has(name)) {
    get(name, false);  // a null value is read, not unknown
    return std::nullopt;
  }
  return sub(name);
}

void param_reader::ignore(std::initializer_list<std::string_view> names) {
  auto& read = st_->scopes[scope_].read;
  for (auto n : names) {
    std::string key(n);
    if (std::find(read.begin(), read.end(), key) == read.end()) read.push_back(key);
  }
}

result<void> param_reader::finish() {
  if (!st_->first_error) {
    for (const auto& sc : st_->scopes) {
      for (const auto& [key, value] : sc.obj->items()) {
        if (std::find(sc.read.begin(), sc.read.end(), key) == sc.read.end()) {
          st_->first_error =
              error{errc::invalid_argument, fmt::format("{}{}: unknown parameter", sc.prefix, key)};
          break;
        }
      }
      if (st_->first_error) break;
    }
  }
  if (st_->first_error) return *st_->first_error;
  return success();
}

}  // namespace nvmfd
