#include "customer/identity.h"

#include "core/text.h"

namespace siyu::customer {

bool is_personal_type(std::string_view type) { return type == "phone" || type == "email"; }

Result<std::string> normalize_phone(std::string_view raw, const std::string& field) {
  std::string digits;
  bool plus = false;
  for (size_t i = 0; i < raw.size(); ++i) {
    const char ch = raw[i];
    if (ch >= '0' && ch <= '9') {
      digits.push_back(ch);
    } else if (ch == '+' && digits.empty() && !plus) {
      plus = true;
    } else if (ch != ' ' && ch != '-' && ch != '(' && ch != ')') {
      return invalid(field + " must be a phone number", field);
    }
  }
  if (plus && starts_with(digits, "86")) {
    digits = digits.substr(2);
    plus = false;
  }
  if (!plus) {
    if (digits.size() != 11 || digits[0] != '1') {
      return invalid(field + " must be an 11-digit mobile number starting with 1", field);
    }
    return digits;
  }
  if (digits.size() < 7 || digits.size() > 15) {
    return invalid(field + " must have 7 to 15 digits after the country code", field);
  }
  return "+" + digits;
}

Result<std::string> normalize_email(std::string_view raw, const std::string& field) {
  const std::string email = ascii_lower(trim(raw));
  const auto at = email.find('@');
  if (email.size() > 254 || at == std::string::npos || at == 0 || at + 1 >= email.size() ||
      email.find('@', at + 1) != std::string::npos ||
      email.find('.', at) == std::string::npos || email.find(' ') != std::string::npos ||
      email.back() == '.') {
    return invalid(field + " must be an e-mail address", field);
  }
  return email;
}

std::string mask_phone(std::string_view phone) {
  if (phone.size() < 7) return std::string(phone.size(), '*');
  std::string out(phone.substr(0, 3));
  out.append(phone.size() - 7, '*');
  out.append(phone.substr(phone.size() - 4));
  return out;
}

std::string mask_email(std::string_view email) {
  const auto at = email.find('@');
  if (at == std::string_view::npos || at == 0) return "****";
  return std::string(email.substr(0, 1)) + "****" + std::string(email.substr(at));
}

std::string mask_name(std::string_view name) {
  if (name.empty()) return {};
  // Keep the first code point (the family name in Chinese), hide the rest.
  size_t first = 1;
  while (first < name.size() && (static_cast<unsigned char>(name[first]) & 0xC0) == 0x80) ++first;
  const size_t rest = utf8_length(name.substr(first));
  return std::string(name.substr(0, first)) + std::string(rest == 0 ? 1 : rest, '*');
}

std::string IdentityCodec::context(std::string_view field) const {
  return "w" + std::to_string(ws_.value) + "/" + std::string(field);
}

std::string IdentityCodec::seal(std::string_view value, std::string_view field) const {
  return vault_.seal(value, context(field));
}

Result<std::string> IdentityCodec::unseal(std::string_view sealed, std::string_view field) const {
  return vault_.open_sealed(sealed, context(field));
}

Result<store::Identity> IdentityCodec::parse(const Json& j, const std::string& path) const {
  JsonFields f(j, path);
  const std::string type = f.req_string("type", 32);
  const std::string value = f.req_string("value", 256);
  const std::string app_id = f.opt_string("app_id", 64).value_or("");
  SIYU_RETURN_IF_ERROR(f.finish());
  return make(type, value, app_id, path);
}

Result<store::Identity> IdentityCodec::make(std::string_view type, std::string_view value,
                                            std::string_view app_id,
                                            const std::string& path) const {
  // Paths are built for errors only: valid identities on the ingest path build none.
  const auto at = [&](const char* field) {
    return path.empty() ? std::string(field) : path + "." + field;
  };
  bool known = false;
  for (const char* t : kIdentityTypes) known = known || type == t;
  if (!known) {
    std::string list;
    for (const char* t : kIdentityTypes) list += (list.empty() ? "" : ", ") + std::string(t);
    return invalid(at("type") + " must be one of " + list, at("type"));
  }
  if (type == "wechat_openid" && app_id.empty()) {
    return invalid(at("app_id") + " is required for wechat_openid", at("app_id"));
  }
  if (type != "wechat_openid" && !app_id.empty()) {
    return invalid(at("app_id") + " is only allowed for wechat_openid", at("app_id"));
  }
  if (auto problem = text_problem(value, 256)) {
    return invalid(at("value") + " " + *problem, at("value"));
  }
  store::Identity id;
  id.type = std::string(type);
  id.app_id = std::string(app_id);
  if (type == "phone" || type == "email") {
    // Normalized against the bare field name, whose message the path then prefixes.
    auto norm = type == "phone" ? normalize_phone(value, "value") : normalize_email(value, "value");
    if (!norm) {
      const std::string& message = norm.error().message();
      return invalid(path.empty() ? message : path + "." + message, at("value"));
    }
    std::string ctx = context(type);
    id.key = vault_.blind_index(*norm, ctx);
    id.display = type == "phone" ? mask_phone(*norm) : mask_email(*norm);
    id.seal_on_insert = [vault = &vault_, ctx = std::move(ctx), plain = std::move(*norm)] {
      return vault->seal(plain, ctx);
    };
    return id;
  }
  const std::string_view v = trim(value);
  if (v.empty()) return invalid(at("value") + " must not be empty", at("value"));
  id.key = std::string(v);
  id.display = id.key;
  return id;
}

}  // namespace siyu::customer
