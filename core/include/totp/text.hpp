// SPDX-License-Identifier: Apache-2.0
// Text from outside (a user or host name, a server's error message, a config value, a
// line of an imported file) on its way to a log line, a terminal or an error message.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace totp {

// True if `text` holds a control character: a byte below 0x20 (NUL, TAB, CR, LF, ESC ...)
// or DEL (0x7f). Bytes >= 0x80 are not control characters here: a UTF-8 value passes.
bool has_control(std::string_view text);

// True if `text` is one or more ASCII digits '0'-'9' and nothing else (no sign, no space).
bool all_digits(std::string_view text);

// `text` as it may be logged or shown: printable ASCII (0x20-0x7e) stays, every other byte
// becomes '?'. That covers what forges or splits a line (CR, LF, NUL), what drives a
// terminal (ESC, and the 8-bit CSI 0x9b), and every byte of UTF-8 too, so no right-to-left
// override or look-alike letter can make a line read differently from what it holds.
// Longer than max_length bytes: cut there and "..." appended.
std::string printable(std::string_view text, std::size_t max_length = 64);

}  // namespace totp
