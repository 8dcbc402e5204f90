// SPDX-License-Identifier: Apache-2.0
// The caller's terminal: prompts on stdout, answers from stdin.
#pragma once

#include <cstdint>
#include <functional>
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

// How many answers a code confirmation takes before it gives up.
inline constexpr int kCodeTries = 3;

// Asks for a code with `prompt` (translated here), echo off, until `accept` takes what was
// typed, saying "That code is not correct." after each answer it does not; after
// kCodeTries of them, Errc::cancelled with `refusal`. What `accept` returned for the answer
// it took.
using CodeAccept = std::function<std::optional<std::uint64_t>(std::string_view typed)>;
totp::Result<std::uint64_t> ask_for_code(const char* prompt, const CodeAccept& accept,
                                         const std::string& refusal);

// Width of the terminal on stdout, or nullopt when stdout is not a terminal (or does not
// know its size).
std::optional<int> terminal_columns();

// A line on stdout, flushed (stdout and stderr share a terminal; keep their order).
void say(std::string_view line);

}  // namespace totp_enroll
