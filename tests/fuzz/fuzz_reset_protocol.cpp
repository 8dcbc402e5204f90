// SPDX-License-Identifier: Apache-2.0
// The monitor's side of the privilege boundary in totp-resetd: every datagram the web
// process (which faces the network) can send is decoded without crashing, and a message
// that decodes is exactly what encoding it again gives (no two spellings of one request).
#include <cstdint>
#include <string_view>

#include "fuzz_input.hpp"
#include "protocol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    const auto message = resetd::decode(bytes);
    if (!message) return 0;
    if (message->fields.size() > resetd::kMaxFields) fuzz::violated("too many fields decoded");
    const auto again = resetd::encode(*message);
    if (!again) fuzz::violated("a decoded message does not encode");
    if (again->view() != bytes) fuzz::violated("decode/encode is not the identity");
    return 0;
}
