#pragma once
// Builds a method's params object from `--name value` arguments (nvmfctl METHOD --name value).
//
// Values are typed by their text:
//   true, false                    -> boolean
//   0 or an integer without leading zeros -> number (unsigned if >= 0, signed if negative,
//                                     a string if it does not fit 64 bits); "007" stays a string
//   text starting with { or [      -> parsed as JSON (an error if it does not parse)
//   text starting with "           -> parsed as a JSON string: '"42"' passes the string 42
//   anything else                  -> string
// Forms: `--name value`, `--name=value`; `--name` followed by another `--option` or by nothing
// is true; `--a.b value` builds {"a": {"b": value}} (merging into an object given as
// `--a '{...}'`); '-' in names becomes '_' (SPDK's rpc.py spells options with dashes).
// Values may start with '-' (`--numa_id -1`); only `--` starts an option.
// Errors (errc::invalid_argument): an argument that is not an option, an empty name, a name
// given twice, a dotted name under a non-object, a bad JSON literal.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace nvmfd::ctl {

using json = nlohmann::ordered_json;

result<json> params_from_args(const std::vector<std::string>& args);

// The typed value of one argument text (the rules above).
result<json> typed_value(const std::string& text);

}  // namespace nvmfd::ctl
