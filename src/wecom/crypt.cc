#include "wecom/crypt.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <memory>

#include "core/text.h"

namespace siyu::wecom {
namespace {

constexpr size_t kBlock = 32;  // WXBizMsgCrypt pads to 32 bytes, not AES's 16

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

Result<std::string> aes_cbc(std::string_view key, std::string_view input, bool encrypt) {
  CipherCtx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  if (!ctx) return internal_error("cannot create a cipher context");
  const auto* k = reinterpret_cast<const unsigned char*>(key.data());
  if (EVP_CipherInit_ex(ctx.get(), EVP_aes_256_cbc(), nullptr, k, k, encrypt ? 1 : 0) != 1) {
    return internal_error("cannot start AES-256-CBC");
  }
  EVP_CIPHER_CTX_set_padding(ctx.get(), 0);  // the 32-byte padding is ours
  std::string out(input.size() + 32, '\0');
  int n = 0;
  int total = 0;
  if (EVP_CipherUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &n,
                       reinterpret_cast<const unsigned char*>(input.data()),
                       static_cast<int>(input.size())) != 1) {
    return permission_denied("callback ciphertext does not decrypt");
  }
  total = n;
  if (EVP_CipherFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + total, &n) != 1) {
    return permission_denied("callback ciphertext does not decrypt");
  }
  out.resize(static_cast<size_t>(total + n));
  return out;
}

}  // namespace

std::string msg_signature(std::string_view token, std::string_view timestamp,
                          std::string_view nonce, std::string_view encrypted) {
  std::array<std::string_view, 4> parts = {token, timestamp, nonce, encrypted};
  std::sort(parts.begin(), parts.end());
  std::string joined;
  for (std::string_view p : parts) joined += p;
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(joined.data()), joined.size(), digest);
  return to_hex(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

Result<MsgCrypt> MsgCrypt::create(std::string token, std::string_view encoding_aes_key,
                                  std::string receive_id) {
  if (encoding_aes_key.size() != 43) {
    return invalid("encoding_aes_key must have 43 characters", "encoding_aes_key");
  }
  auto key = base64_decode(std::string(encoding_aes_key) + "=");
  if (!key || key->size() != 32) {
    return invalid("encoding_aes_key is not base64 of 32 bytes", "encoding_aes_key");
  }
  MsgCrypt c;
  c.token_ = std::move(token);
  c.key_ = std::move(*key);
  c.receive_id_ = std::move(receive_id);
  return c;
}

Result<std::string> MsgCrypt::decrypt(std::string_view signature, std::string_view timestamp,
                                      std::string_view nonce, std::string_view encrypted) const {
  const std::string expected = msg_signature(token_, timestamp, nonce, encrypted);
  if (expected.size() != signature.size() ||
      !std::equal(expected.begin(), expected.end(), signature.begin())) {
    return permission_denied("callback signature does not match");
  }
  auto cipher = base64_decode(encrypted);
  if (!cipher || cipher->empty() || cipher->size() % kBlock != 0) {
    return permission_denied("callback ciphertext is malformed");
  }
  SIYU_ASSIGN_OR_RETURN(std::string plain, aes_cbc(key_, *cipher, false));
  const auto pad = static_cast<uint8_t>(plain.back());
  if (pad < 1 || pad > kBlock || pad > plain.size()) {
    return permission_denied("callback padding is malformed");
  }
  plain.resize(plain.size() - pad);
  if (plain.size() < 20) return permission_denied("callback plaintext is too short");
  const uint32_t len = (static_cast<uint8_t>(plain[16]) << 24) | (static_cast<uint8_t>(plain[17]) << 16) |
                       (static_cast<uint8_t>(plain[18]) << 8) | static_cast<uint8_t>(plain[19]);
  if (len > plain.size() - 20) return permission_denied("callback length is malformed");
  const std::string_view receive_id = std::string_view(plain).substr(20 + len);
  if (receive_id != receive_id_) {
    return permission_denied("callback is for another receiver (" + std::string(receive_id) + ")");
  }
  return plain.substr(20, len);
}

std::string MsgCrypt::encrypt(std::string_view message, std::string_view random16) const {
  std::string plain(random16.substr(0, 16));
  plain.resize(16, '0');
  const auto len = static_cast<uint32_t>(message.size());
  plain.push_back(static_cast<char>((len >> 24) & 0xFF));
  plain.push_back(static_cast<char>((len >> 16) & 0xFF));
  plain.push_back(static_cast<char>((len >> 8) & 0xFF));
  plain.push_back(static_cast<char>(len & 0xFF));
  plain += message;
  plain += receive_id_;
  const size_t pad = kBlock - plain.size() % kBlock;
  plain.append(pad, static_cast<char>(pad));
  auto cipher = aes_cbc(key_, plain, true);
  return cipher ? base64_encode(*cipher) : std::string();
}

}  // namespace siyu::wecom
