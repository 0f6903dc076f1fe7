// A workspace's WeCom connection (the "wecom" workspace setting): the corp, the customer-
// contact secret, the callback token and EncodingAESKey (sealed at rest with the Vault), the
// API base (a local fake in tests), call caps, and how Siyu's staff and groups are known in
// WeCom (staff e-mail → WeCom userid, group id → chat_id).
#pragma once

#include <map>
#include <string>

#include "core/json.h"
#include "core/status.h"
#include "security/crypto.h"
#include "store/store.h"

namespace siyu::wecom {

struct WecomSettings {
  std::string corp_id;
  std::string secret;            // customer-contact (客户联系) secret
  std::string token;             // callback token
  std::string encoding_aes_key;  // callback EncodingAESKey, 43 characters
  std::string api_base = "https://qyapi.weixin.qq.com/cgi-bin/";
  bool allow_private = false;    // API base on a private address (tests, proxies)
  int per_minute = 600;          // API calls
  int per_hour = 20'000;
  int remind_after_minutes = 120;  // remind staff who have not sent a mass task by then
  std::map<std::string, std::string> staff_userids;  // staff e-mail → WeCom userid
  std::map<int64_t, std::string> chats;              // group id → WeCom chat_id

  /// Whether the API can be called and callbacks decrypted.
  bool configured() const {
    return !corp_id.empty() && !secret.empty() && !token.empty() && encoding_aes_key.size() == 43;
  }
};

/// Reads settings from an API body over `base`; kInvalidArgument names the field.
Result<WecomSettings> parse_wecom_settings(const Json& j, WecomSettings base);

/// The API view: secrets are shown as "<name>_set" flags only.
Json wecom_settings_json(const WecomSettings& s);

/// The stored settings with secrets unsealed; defaults when none are stored.
Result<WecomSettings> load_wecom_settings(store::Store& store, const security::Vault& vault,
                                          WorkspaceId ws);

/// Stores the settings, sealing the secret, token and key.
Status save_wecom_settings(store::Store& store, const security::Vault& vault, WorkspaceId ws,
                           const WecomSettings& s, EpochMs at);

}  // namespace siyu::wecom
