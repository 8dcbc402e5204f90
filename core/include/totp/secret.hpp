// SPDX-License-Identifier: Apache-2.0
// Buffers for secrets, codes and passwords: they wipe themselves (OPENSSL_cleanse)
// when destroyed or cleared, and cannot be copied by accident.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace totp {

class SecretBytes {
  public:
    SecretBytes() = default;
    explicit SecretBytes(std::size_t size);
    SecretBytes(const std::uint8_t* data, std::size_t size);
    ~SecretBytes();

    SecretBytes(SecretBytes&& other) noexcept;
    SecretBytes& operator=(SecretBytes&& other) noexcept;
    SecretBytes(const SecretBytes&) = delete;
    SecretBytes& operator=(const SecretBytes&) = delete;

    SecretBytes clone() const;
    void clear();
    void resize(std::size_t size);  // wipes the old storage if it moves
    void push_back(std::uint8_t byte);

    std::uint8_t* data() { return bytes_.data(); }
    const std::uint8_t* data() const { return bytes_.data(); }
    std::size_t size() const { return bytes_.size(); }
    bool empty() const { return bytes_.empty(); }
    std::span<const std::uint8_t> span() const { return {bytes_.data(), bytes_.size()}; }

  private:
    std::vector<std::uint8_t> bytes_;
};

// Text that must not outlive its use (a typed code, a password, a base32 secret).
class SecretString {
  public:
    SecretString() = default;
    explicit SecretString(std::string_view text);
    ~SecretString();

    SecretString(SecretString&& other) noexcept;
    SecretString& operator=(SecretString&& other) noexcept;
    SecretString(const SecretString&) = delete;
    SecretString& operator=(const SecretString&) = delete;

    void clear();
    void append(std::string_view text);      // reserves first so no unwiped copy is left behind
    void append(std::size_t count, char c);  // the same, for `count` copies of `c`
    void reserve(std::size_t capacity);      // moves (and wipes) the old buffer if it grows
    std::string_view view() const { return text_; }
    const char* c_str() const { return text_.c_str(); }
    std::size_t size() const { return text_.size(); }
    bool empty() const { return text_.empty(); }

  private:
    std::string text_;
};

// Wipes a caller-owned buffer (e.g. a PAM response or a C string we were handed).
void wipe(void* data, std::size_t size);
void wipe(std::string& text);

// Constant-time equality: the time taken depends only on the lengths.
bool equal_constant_time(std::string_view a, std::string_view b);

// Fills a buffer from OpenSSL's CSPRNG; false if the generator failed.
bool random_bytes(std::uint8_t* out, std::size_t size);

}  // namespace totp
