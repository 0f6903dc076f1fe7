// libFuzzer target: WeCom callback bodies — the XML envelope, WXBizMsgCrypt decryption of
// whatever ciphertext it holds (signed, so decryption itself is exercised), and the decrypted
// XML read as events and as relayed group messages.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "wecom/callback.h"
#include "wecom/crypt.h"
#include "wecom/xml.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const siyu::security::Vault vault = [] {
    (void)siyu::security::init();
    return siyu::security::Vault::from_key({});
  }();
  static const auto crypt =
      siyu::wecom::MsgCrypt::create("token", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "ww");
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const auto encrypted = siyu::wecom::xml_field(body, "Encrypt").value_or(std::string(body));
  const std::string sig = siyu::wecom::msg_signature("token", "1", "n", encrypted);
  (void)crypt->decrypt(sig, "1", "n", encrypted);
  (void)siyu::wecom::xml_items(body, "MemChangeList");
  const siyu::customer::IdentityCodec codec(vault, siyu::WorkspaceId(1));
  const siyu::wecom::StaffResolver staff = [](const std::string&) {
    return std::optional<std::string>();
  };
  auto events = siyu::wecom::callback_events(body, siyu::wecom::WecomSettings{}, codec, staff, 0);
  if (events) {
    for (const auto& e : *events) {
      if (e.event.event_id.empty() || !e.identity) __builtin_trap();
    }
  }
  auto message = siyu::wecom::callback_group_message(body, 0);
  if (message && *message && ((*message)->msg_id.empty() || (*message)->chat_id.empty())) {
    __builtin_trap();
  }
  return 0;
}
