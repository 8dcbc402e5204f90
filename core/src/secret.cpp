// SPDX-License-Identifier: Apache-2.0
#include "totp/secret.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <climits>
#include <utility>

namespace totp {

void wipe(void* data, std::size_t size) {
    if (data != nullptr && size > 0) OPENSSL_cleanse(data, size);
}

void wipe(std::string& text) {
    // Wipe the whole capacity: a shorter string may sit in a buffer that held a longer one.
    wipe(text.data(), text.capacity());
    text.clear();
}

bool equal_constant_time(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    if (a.empty()) return true;
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool random_bytes(std::uint8_t* out, std::size_t size) {
    if (size > static_cast<std::size_t>(INT_MAX)) return false;
    return RAND_bytes(out, static_cast<int>(size)) == 1;
}

SecretBytes::SecretBytes(std::size_t size) : bytes_(size) {}

SecretBytes::SecretBytes(const std::uint8_t* data, std::size_t size) : bytes_(data, data + size) {}

SecretBytes::~SecretBytes() {
    clear();
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept : bytes_(std::move(other.bytes_)) {}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
    if (this != &other) {
        clear();
        bytes_ = std::move(other.bytes_);
    }
    return *this;
}

SecretBytes SecretBytes::clone() const {
    return SecretBytes(bytes_.data(), bytes_.size());
}

void SecretBytes::clear() {
    wipe(bytes_.data(), bytes_.capacity());
    bytes_.clear();
}

void SecretBytes::resize(std::size_t size) {
    if (size <= bytes_.capacity()) {
        if (size < bytes_.size()) wipe(bytes_.data() + size, bytes_.size() - size);
        bytes_.resize(size);
        return;
    }
    std::vector<std::uint8_t> bigger;
    bigger.reserve(size);
    bigger.assign(bytes_.begin(), bytes_.end());
    bigger.resize(size);
    clear();
    bytes_ = std::move(bigger);
}

void SecretBytes::push_back(std::uint8_t byte) {
    if (bytes_.size() == bytes_.capacity()) {
        std::vector<std::uint8_t> bigger;
        bigger.reserve(bytes_.empty() ? 32 : bytes_.capacity() * 2);
        bigger.assign(bytes_.begin(), bytes_.end());
        clear();
        bytes_ = std::move(bigger);
    }
    bytes_.push_back(byte);
}

SecretString::SecretString(std::string_view text) {
    append(text);
}

SecretString::~SecretString() {
    clear();
}

SecretString::SecretString(SecretString&& other) noexcept : text_(std::move(other.text_)) {
    // A moved-from short string keeps its characters in its inline buffer.
    wipe(other.text_);
}

SecretString& SecretString::operator=(SecretString&& other) noexcept {
    if (this != &other) {
        clear();
        text_ = std::move(other.text_);
        wipe(other.text_);
    }
    return *this;
}

void SecretString::clear() {
    wipe(text_);
}

void SecretString::reserve(std::size_t capacity) {
    if (capacity <= text_.capacity()) return;
    std::string bigger;
    bigger.reserve(capacity);
    bigger.append(text_);
    wipe(text_);
    text_ = std::move(bigger);
}

void SecretString::append(std::string_view text) {
    const std::size_t needed = text_.size() + text.size();
    if (needed > text_.capacity()) reserve(needed * 2);
    text_.append(text);
}

void SecretString::append(std::size_t count, char c) {
    const std::size_t needed = text_.size() + count;
    if (needed > text_.capacity()) reserve(needed * 2);
    text_.append(count, c);
}

}  // namespace totp
