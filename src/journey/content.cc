#include "journey/content.h"

#include <array>

#include "core/text.h"

namespace siyu::journey {
namespace {

constexpr std::array<std::string_view, 5> kBuiltins = {"name", "city", "staff", "group", "today"};

/// Walks `text`, calling `literal` for plain runs and `variable` for each {name}.
template <typename Literal, typename Var>
Status scan(std::string_view text, Literal&& literal, Var&& variable) {
  size_t i = 0;
  while (i < text.size()) {
    const char ch = text[i];
    if ((ch == '{' || ch == '}') && i + 1 < text.size() && text[i + 1] == ch) {
      literal(text.substr(i, 1));
      i += 2;
      continue;
    }
    if (ch == '}') return invalid("a \"}\" without its \"{\" (write \"}}\" for a brace)");
    if (ch != '{') {
      const size_t next = text.find_first_of("{}", i);
      const size_t end = next == std::string_view::npos ? text.size() : next;
      literal(text.substr(i, end - i));
      i = end;
      continue;
    }
    const size_t close = text.find('}', i + 1);
    if (close == std::string_view::npos) {
      return invalid("a \"{\" without its \"}\" (write \"{{\" for a brace)");
    }
    const std::string_view name = trim(text.substr(i + 1, close - i - 1));
    if (name.empty()) return invalid("an empty variable \"{}\"");
    SIYU_RETURN_IF_ERROR(variable(std::string(name)));
    i = close + 1;
  }
  return Status::ok();
}

}  // namespace

bool is_builtin_variable(std::string_view name) {
  for (std::string_view b : kBuiltins) {
    if (b == name) return true;
  }
  return false;
}

Result<std::vector<std::string>> variables_in(std::string_view text) {
  std::vector<std::string> out;
  SIYU_RETURN_IF_ERROR(scan(
      text, [](std::string_view) {},
      [&](std::string name) {
        out.push_back(std::move(name));
        return Status::ok();
      }));
  return out;
}

bool is_known_variable(std::string_view name, const std::map<std::string, Variable>& vars) {
  if (is_builtin_variable(name)) return true;
  for (std::string_view prefix : {std::string_view("custom."), std::string_view("event.")}) {
    if (starts_with(name, prefix) && name.size() > prefix.size()) return true;
  }
  return vars.find(std::string(name)) != vars.end();
}

Result<std::string> render(std::string_view text, const VariableSource& value) {
  std::string out;
  out.reserve(text.size());
  SIYU_RETURN_IF_ERROR(scan(
      text, [&](std::string_view s) { out.append(s); },
      [&](const std::string& name) -> Status {
        std::optional<std::string> v = value(name);
        if (!v || v->empty()) {
          return unprocessable("content variable {" + name + "} has no value");
        }
        out += *v;
        return Status::ok();
      }));
  return out;
}

}  // namespace siyu::journey
