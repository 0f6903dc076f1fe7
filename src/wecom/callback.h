// WeCom customer-contact callbacks (decrypted XML, protocols/wecom.md §A) as Siyu events:
//   change_external_contact add_external_contact, add_half_external_contact → add_friend
//     (properties: wecom_userid, state — the channel code — and welcome_code)
//   change_external_contact del_external_contact, del_follow_user → remove_friend
//   change_external_chat update add_member / del_member → join_group / leave_group, one per
//     external member (ids of staff members are skipped)
// Event ids are derived from the callback's content, so the same callback delivered twice is
// stored once.
//
// Group messages arrive in the message envelope (MsgType text, image, link, ... with MsgId,
// FromUserName, CreateTime and Content) with a ChatId naming the customer group: the form in
// which a chat-archive (会话内容存档) collector relays each record of a group to Siyu.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "customer/identity.h"
#include "store/store.h"
#include "wecom/settings.h"

namespace siyu::wecom {

/// A Siyu staff id ("3") for a WeCom userid, or nullopt when the staff member is not known.
using StaffResolver = std::function<std::optional<std::string>(const std::string& userid)>;

/// The events of one decrypted callback; empty for callbacks Siyu does not record.
Result<std::vector<store::PendingEvent>> callback_events(std::string_view xml,
                                                         const WecomSettings& settings,
                                                         const customer::IdentityCodec& codec,
                                                         const StaffResolver& staff, EpochMs now);

/// A group message relayed in a callback envelope.
struct RelayedMessage {
  std::string chat_id;
  std::string msg_id;
  std::string from;  // external userid (wm…/wo…) or a staff member's userid
  bool from_customer = false;
  std::string type;  // text, image, link, file, voice, video, mini_program
  std::string text;
  bool qr = false;   // the collector found a QR code in the image (<HasQrCode>1)
  EpochMs at = 0;
};

/// The group message of a decrypted callback, or nullopt when it is not one (events, or a
/// message outside a group). kInvalidArgument for a message without MsgId or FromUserName.
Result<std::optional<RelayedMessage>> callback_group_message(std::string_view xml, EpochMs now);

}  // namespace siyu::wecom
