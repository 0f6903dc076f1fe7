#include "wecom/settings.h"

#include <charconv>

#include "core/text.h"

namespace siyu::wecom {
namespace {

constexpr const char* kSetting = "wecom";

std::string context(WorkspaceId ws) { return "w" + std::to_string(ws.value) + "/wecom"; }

}  // namespace

Result<WecomSettings> parse_wecom_settings(const Json& j, WecomSettings s) {
  if (!j.is_object()) return invalid("wecom settings must be an object");
  JsonFields f(j, "");
  if (auto v = f.opt_string("corp_id", 64)) s.corp_id = *v;
  if (auto v = f.opt_string("secret", 128)) s.secret = *v;
  if (auto v = f.opt_string("token", 64)) s.token = *v;
  if (auto v = f.opt_string("encoding_aes_key", 43)) s.encoding_aes_key = *v;
  if (auto v = f.opt_string("api_base", 500)) s.api_base = *v;
  if (auto v = f.opt_bool("allow_private")) s.allow_private = *v;
  if (auto v = f.opt_int("per_minute", 1, 100'000)) s.per_minute = static_cast<int>(*v);
  if (auto v = f.opt_int("per_hour", 1, 10'000'000)) s.per_hour = static_cast<int>(*v);
  if (auto v = f.opt_int("remind_after_minutes", 5, 7 * 24 * 60)) {
    s.remind_after_minutes = static_cast<int>(*v);
  }
  if (const Json* staff = f.opt_any("staff_userids")) {
    if (!staff->is_object()) f.fail("staff_userids", "must map staff e-mails to WeCom userids");
    s.staff_userids.clear();
    for (auto it = staff->begin(); staff->is_object() && it != staff->end(); ++it) {
      if (!it.value().is_string() || it.value().get<std::string>().empty()) {
        f.fail("staff_userids", "values must be WeCom userids");
        break;
      }
      s.staff_userids[ascii_lower(it.key())] = it.value().get<std::string>();
    }
  }
  if (const Json* chats = f.opt_any("chats")) {
    if (!chats->is_object()) f.fail("chats", "must map group ids to WeCom chat_ids");
    s.chats.clear();
    for (auto it = chats->begin(); chats->is_object() && it != chats->end(); ++it) {
      int64_t id = 0;
      const auto [end, ec] = std::from_chars(it.key().data(), it.key().data() + it.key().size(), id);
      if (ec != std::errc() || end != it.key().data() + it.key().size() || id <= 0 ||
          !it.value().is_string()) {
        f.fail("chats", "must map group ids to WeCom chat_ids");
        break;
      }
      s.chats[id] = it.value().get<std::string>();
    }
  }
  f.allow("secret_set");
  f.allow("token_set");
  f.allow("encoding_aes_key_set");
  f.allow("configured");
  SIYU_RETURN_IF_ERROR(f.finish());
  if (!s.encoding_aes_key.empty() && s.encoding_aes_key.size() != 43) {
    return invalid("encoding_aes_key must have 43 characters", "encoding_aes_key");
  }
  if (!starts_with(s.api_base, "https://") && !starts_with(s.api_base, "http://")) {
    return invalid("api_base must start with https:// or http://", "api_base");
  }
  if (s.api_base.back() != '/') s.api_base += '/';
  return s;
}

Json wecom_settings_json(const WecomSettings& s) {
  Json chats = Json::object();
  for (const auto& [id, chat] : s.chats) chats[std::to_string(id)] = chat;
  return {{"corp_id", s.corp_id},
          {"secret_set", !s.secret.empty()},
          {"token_set", !s.token.empty()},
          {"encoding_aes_key_set", !s.encoding_aes_key.empty()},
          {"api_base", s.api_base},
          {"allow_private", s.allow_private},
          {"per_minute", s.per_minute},
          {"per_hour", s.per_hour},
          {"remind_after_minutes", s.remind_after_minutes},
          {"staff_userids", s.staff_userids},
          {"chats", chats},
          {"configured", s.configured()}};
}

Result<WecomSettings> load_wecom_settings(store::Store& store, const security::Vault& vault,
                                          WorkspaceId ws) {
  SIYU_ASSIGN_OR_RETURN(auto stored, store.setting(ws, kSetting));
  if (!stored) return WecomSettings{};
  SIYU_ASSIGN_OR_RETURN(Json j, parse_json(*stored));
  const std::string ctx = context(ws);
  Json plain = j;
  for (const char* secret : {"secret", "token", "encoding_aes_key"}) {
    plain.erase(secret);
    const std::string sealed = j.value(std::string(secret) + "_sealed", "");
    plain.erase(std::string(secret) + "_sealed");
    if (sealed.empty()) continue;
    SIYU_ASSIGN_OR_RETURN(std::string bytes, base64_decode(sealed));
    SIYU_ASSIGN_OR_RETURN(std::string value, vault.open_sealed(bytes, ctx));
    plain[secret] = value;
  }
  return parse_wecom_settings(plain, WecomSettings{});
}

Status save_wecom_settings(store::Store& store, const security::Vault& vault, WorkspaceId ws,
                           const WecomSettings& s, EpochMs at) {
  Json j = wecom_settings_json(s);
  for (const char* key : {"secret_set", "token_set", "encoding_aes_key_set", "configured"}) {
    j.erase(key);
  }
  const std::string ctx = context(ws);
  const std::pair<const char*, const std::string*> secrets[] = {
      {"secret", &s.secret}, {"token", &s.token}, {"encoding_aes_key", &s.encoding_aes_key}};
  for (const auto& [name, value] : secrets) {
    if (!value->empty()) j[std::string(name) + "_sealed"] = base64_encode(vault.seal(*value, ctx));
  }
  return store.put_setting(ws, kSetting, j.dump(), at);
}

}  // namespace siyu::wecom
