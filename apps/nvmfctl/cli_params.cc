#include "cli_params.h"

#include <charconv>

#include <fmt/format.h>

namespace nvmfd::ctl {

namespace {

bool is_option(const std::string& a) { return a.size() > 2 && a.starts_with("--"); }

// Integer literal: "0" or [-]digits without a leading zero.
bool is_integer_literal(const std::string& s) {
  size_t i = s.starts_with('-') ? 1 : 0;
  if (i >= s.size()) return false;
  for (size_t j = i; j < s.size(); ++j) {
    if (s[j] < '0' || s[j] > '9') return false;
  }
  return s[i] != '0' || s.size() == i + 1;
}

result<void> insert(json& params, const std::string& name, json value) {
  json* obj = &params;
  size_t start = 0;
  for (;;) {
    size_t dot = name.find('.', start);
    std::string key = name.substr(start, dot == std::string::npos ? dot : dot - start);
    if (key.empty()) {
      return error{errc::invalid_argument, fmt::format("--{}: empty parameter name", name)};
    }
    if (dot == std::string::npos) {
      if (obj->contains(key)) {
        return error{errc::invalid_argument, fmt::format("--{}: given twice", name)};
      }
      (*obj)[key] = std::move(value);
      return success();
    }
    json& child = (*obj)[key];
    if (child.is_null()) child = json::object();
    if (!child.is_object()) {
      return error{errc::invalid_argument,
                   fmt::format("--{}: {} is not an object", name, name.substr(0, dot))};
    }
    obj = &child;
    start = dot + 1;
  }
}

}  // namespace

result<json> typed_value(const std::string& text) {
  if (text == "true") return json(true);
  if (text == "false") return json(false);
  if (is_integer_literal(text)) {
    const char* b = text.data();
    const char* e = b + text.size();
    if (text[0] == '-') {
      int64_t v = 0;
      if (std::from_chars(b, e, v).ec == std::errc()) return json(v);
    } else {
      uint64_t v = 0;
      if (std::from_chars(b, e, v).ec == std::errc()) return json(v);
    }
    return json(text);
  }
  if (text.starts_with('{') || text.starts_with('[') || text.starts_with('"')) {
    try {
      return json::parse(text);
    } catch (const json::exception& e) {
      return error{errc::invalid_argument, fmt::format("bad JSON value {}: {}", text, e.what())};
    }
  }
  return json(text);
}

result<json> params_from_args(const std::vector<std::string>& args) {
  json params = json::object();
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (!is_option(a)) {
      return error{errc::invalid_argument,
                   fmt::format("unexpected argument '{}': give parameters as --name value", a)};
    }
    std::string name = a.substr(2);
    std::string text;
    bool has_text = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      text = name.substr(eq + 1);
      name.resize(eq);
      has_text = true;
    } else if (i + 1 < args.size() && !is_option(args[i + 1])) {
      text = args[++i];
      has_text = true;
    }
    for (char& c : name) {
      if (c == '-') c = '_';
    }
    json value = true;
    if (has_text) {
      auto v = typed_value(text);
      if (!v) return v.take_err();
      value = std::move(*v);
    }
    // An object given whole may be completed by dotted options, and vice versa.
    if (value.is_object() && name.find('.') == std::string::npos && params.contains(name) &&
        params[name].is_object()) {
      for (auto& [k, v] : value.items()) {
        auto r = insert(params, name + "." + k, v);
        if (!r) return r.take_err();
      }
      continue;
    }
    auto r = insert(params, name, std::move(value));
    if (!r) return r.take_err();
  }
  return params;
}

}  // namespace nvmfd::ctl
