// xflowctl's human output: a table or "key: value" lines per command, from the reply's result
// (the same JSON that --json prints).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace xflowd::tools::xflowctl {

// The result of `command` for a person. Unknown shapes fall back to "key: value" lines
// (nested keys joined with '.') or a table of the array's objects.
std::string FormatResult(const std::string& command, const nlohmann::json& result);

// One cell: numbers as integers where whole, null as "-", strings as they are.
std::string Cell(const nlohmann::json& v);

}  // namespace xflowd::tools::xflowctl
