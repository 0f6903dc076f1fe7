// Message content with {variables}: "{name}，您的专属券 {coupon} 今晚 24 点前有效". A variable
// without a value makes rendering fail, so a broken message is never sent. "{{" and "}}"
// write literal braces.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "journey/definition.h"

namespace siyu::journey {

/// Variable names every journey may use: the customer's name and city, the owner staff's
/// name, the group's name and today's date.
bool is_builtin_variable(std::string_view name);

/// The variables of `text` in order of appearance; kInvalidArgument for an unclosed brace or
/// an empty name.
Result<std::vector<std::string>> variables_in(std::string_view text);

/// Whether `name` is a variable a journey may use: a built-in, "custom.FIELD" (a customer's
/// custom field), "event.PROPERTY" (of the triggering event) or one of `vars`.
bool is_known_variable(std::string_view name, const std::map<std::string, Variable>& vars);

/// Looks up a variable's value; nullopt when it has none for this customer.
using VariableSource = std::function<std::optional<std::string>(const std::string& name)>;

/// Renders `text`; kUnprocessable naming the first variable without a value.
Result<std::string> render(std::string_view text, const VariableSource& value);

}  // namespace siyu::journey
