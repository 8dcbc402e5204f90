// SPDX-License-Identifier: Apache-2.0
// The caller's terminal: prompts on stdout, answers from stdin.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "totp/result.hpp"
#include "totp/secret.hpp"

namespace totp_enroll {

enum class Echo { on, off };

// Prints `prompt` and reads one line from stdin (without its newline). With Echo::off and
// stdin a terminal, typed characters are not shown, and the terminal's settings are
// restored however the call ends. End of input, or SIGINT / SIGTERM / SIGHUP / SIGQUIT
// while waiting, is Errc::cancelled. Reads byte by byte, so input meant for a later prompt
// stays unread.
totp::Result<totp::SecretString> ask_line(std::string_view prompt, Echo echo);

// Width of the terminal on stdout, or nullopt when stdout is not a terminal (or does not
// know its size).
std::optional<int> terminal_columns();

// A line on stdout, flushed (stdout and stderr share a terminal; keep their order).
void say(std::string_view line);

}  // namespace totp_enroll
