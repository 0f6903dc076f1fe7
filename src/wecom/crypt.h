// WXBizMsgCrypt, WeCom's callback encryption (企业微信回调加解密).
//
// Envelope: the callback body is XML carrying <Encrypt>, the base64 of AES-256-CBC ciphertext.
// The AES key is base64(EncodingAESKey + "=") (43 characters → 32 bytes) and the IV is its
// first 16 bytes. The plaintext is 16 random bytes, the message length as 4 bytes in network
// order, the message, then the receive id (the CorpID), padded PKCS#7-style to a multiple of
// 32 bytes. msg_signature is the hex SHA-1 of token, timestamp, nonce and the ciphertext,
// sorted as strings and concatenated.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace siyu::wecom {

/// Hex SHA-1 of the four parts sorted and concatenated.
std::string msg_signature(std::string_view token, std::string_view timestamp,
                          std::string_view nonce, std::string_view encrypted);

/// One workspace's callback keys. Thread-safe (immutable).
class MsgCrypt {
 public:
  /// kInvalidArgument when the EncodingAESKey is not 43 base64 characters.
  static Result<MsgCrypt> create(std::string token, std::string_view encoding_aes_key,
                                 std::string receive_id);

  /// Checks the signature, decrypts, and checks the receive id. kPermissionDenied for a bad
  /// signature, a wrong receive id or ciphertext that does not decrypt.
  Result<std::string> decrypt(std::string_view msg_signature, std::string_view timestamp,
                              std::string_view nonce, std::string_view encrypted) const;

  /// Encrypts `message` with a given 16-byte random prefix (tests and the fake server).
  std::string encrypt(std::string_view message, std::string_view random16) const;

  const std::string& token() const { return token_; }

 private:
  MsgCrypt() = default;
  std::string token_;
  std::string key_;  // 32 bytes
  std::string receive_id_;
};

}  // namespace siyu::wecom
