#include "security/crypto.h"

#include <gtest/gtest.h>

namespace siyu::security {
namespace {

Vault test_vault(unsigned char fill) {
  std::array<unsigned char, 32> key{};
  key.fill(fill);
  return Vault::from_key(key);
}

TEST(VaultTest, SealOpensOnlyWithSameKeyAndContext) {
  ASSERT_TRUE(init().is_ok());
  const Vault v = test_vault(1);
  const std::string sealed = v.seal("13800138000", "w1/phone");
  EXPECT_EQ(sealed.find("13800138000"), std::string::npos);
  EXPECT_EQ(*v.open_sealed(sealed, "w1/phone"), "13800138000");
  EXPECT_FALSE(v.open_sealed(sealed, "w2/phone").has_value());
  EXPECT_FALSE(test_vault(2).open_sealed(sealed, "w1/phone").has_value());
  std::string tampered = sealed;
  tampered.back() = static_cast<char>(tampered.back() ^ 1);
  EXPECT_FALSE(v.open_sealed(tampered, "w1/phone").has_value());
}

TEST(VaultTest, BlindIndexIsDeterministicPerContext) {
  ASSERT_TRUE(init().is_ok());
  const Vault v = test_vault(3);
  EXPECT_EQ(v.blind_index("a", "w1/phone"), v.blind_index("a", "w1/phone"));
  EXPECT_NE(v.blind_index("a", "w1/phone"), v.blind_index("a", "w2/phone"));
  EXPECT_NE(v.blind_index("a", "w1/phone"), test_vault(4).blind_index("a", "w1/phone"));
}

TEST(PasswordTest, Argon2idVerifies) {
  ASSERT_TRUE(init().is_ok());
  auto h = hash_password("correct horse battery");
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->rfind("$argon2id$", 0), 0u);
  EXPECT_TRUE(verify_password(*h, "correct horse battery"));
  EXPECT_FALSE(verify_password(*h, "correct horse battery!"));
}

}  // namespace
}  // namespace siyu::security
