#include "core/json.h"

#include "core/text.h"

namespace siyu {

Result<Json> parse_json(std::string_view text) {
  // nlohmann accepts ill-formed UTF-8 inside strings and only fails when dumping; check first.
  if (!is_valid_utf8(text)) return invalid("malformed json: text is not valid UTF-8");
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::exception& e) {
    // parse_error for bad syntax, out_of_range for numbers like 1e999.
    std::string what = e.what();
    // nlohmann prefixes "[json.exception.parse_error.101] "; keep only the explanation.
    if (auto pos = what.find("] "); pos != std::string::npos) what = what.substr(pos + 2);
    return invalid("malformed json: " + what);
  }
}

std::optional<std::string> text_problem(std::string_view s, size_t max_chars) {
  if (!is_valid_utf8(s)) return "is not valid UTF-8";
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7F) return "contains a control character";
  }
  if (utf8_length(s) > max_chars) return "is longer than " + std::to_string(max_chars) + " characters";
  return std::nullopt;
}

JsonFields::JsonFields(const Json& object, std::string path)
    : object_(object), path_(std::move(path)) {
  if (!object_.is_object()) {
    status_ = invalid((path_.empty() ? std::string("body") : path_) + " must be a JSON object",
                      path_);
  }
}

std::string JsonFields::path_of(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

void JsonFields::fail(std::string_view key, std::string message) {
  if (status_.is_ok()) status_ = invalid(path_of(key) + " " + message, path_of(key));
}

const Json* JsonFields::find(std::string_view key) {
  if (!status_.is_ok()) return nullptr;
  seen_.emplace(key);
  auto it = object_.find(key);
  if (it == object_.end() || it->is_null()) return nullptr;
  return &*it;
}

void JsonFields::allow(std::string_view key) { seen_.emplace(key); }

bool JsonFields::is_null(std::string_view key) const {
  if (!object_.is_object()) return false;
  auto it = object_.find(key);
  return it != object_.end() && it->is_null();
}

std::optional<std::string> JsonFields::opt_string(std::string_view key, size_t max_chars) {
  const Json* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) {
    fail(key, "must be a string");
    return std::nullopt;
  }
  const auto& s = v->get_ref<const std::string&>();
  if (auto problem = text_problem(s, max_chars)) {
    fail(key, *problem);
    return std::nullopt;
  }
  return s;
}

std::string JsonFields::req_string(std::string_view key, size_t max_chars) {
  auto s = opt_string(key, max_chars);
  if (!s && status_.is_ok()) fail(key, "is required");
  if (s && trim(*s).empty()) {
    fail(key, "must not be empty");
    return {};
  }
  return s.value_or("");
}

std::optional<std::string> JsonFields::opt_enum(std::string_view key,
                                                std::initializer_list<std::string_view> allowed) {
  return opt_enum(key, std::span<const std::string_view>(allowed.begin(), allowed.size()));
}

std::optional<std::string> JsonFields::opt_enum(std::string_view key,
                                                std::span<const std::string_view> allowed) {
  auto s = opt_string(key, 64);
  if (!s) return std::nullopt;
  for (auto a : allowed) {
    if (a == *s) return s;
  }
  std::string list;
  for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
  fail(key, "must be one of " + list);
  return std::nullopt;
}

std::optional<int64_t> JsonFields::opt_int(std::string_view key, int64_t min, int64_t max) {
  const Json* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number_integer()) {
    fail(key, "must be an integer");
    return std::nullopt;
  }
  int64_t n = 0;
  if (v->is_number_unsigned()) {
    const auto u = v->get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) {
      fail(key, "is out of range");
      return std::nullopt;
    }
    n = static_cast<int64_t>(u);
  } else {
    n = v->get<int64_t>();
  }
  if (n < min || n > max) {
    fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return std::nullopt;
  }
  return n;
}

std::optional<bool> JsonFields::opt_bool(std::string_view key) {
  const Json* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_boolean()) {
    fail(key, "must be true or false");
    return std::nullopt;
  }
  return v->get<bool>();
}

const Json* JsonFields::opt_any(std::string_view key) {
  if (!status_.is_ok()) return nullptr;
  seen_.emplace(key);
  auto it = object_.find(key);
  return it == object_.end() ? nullptr : &*it;
}

Status JsonFields::finish() {
  if (!status_.is_ok()) return status_;
  for (auto it = object_.begin(); it != object_.end(); ++it) {
    if (!seen_.contains(it.key())) {
      return invalid(path_of(it.key()) + " is not a known field", path_of(it.key()));
    }
  }
  return Status::ok();
}

}  // namespace siyu
