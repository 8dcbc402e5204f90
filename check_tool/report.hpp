// SPDX-License-Identifier: Apache-2.0
// What totp-check found, and its two forms: lines for the administrator, JSON for scripts.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace totp_check {

// The kinds of finding (totp-check(8) describes each).
inline constexpr const char* kKindBypass = "bypass";
inline constexpr const char* kKindConditional = "conditional";
inline constexpr const char* kKindNullok = "nullok";
inline constexpr const char* kKindPasswordRequired = "password-required";
inline constexpr const char* kKindCodeFirst = "code-first";
inline constexpr const char* kKindForwardPass = "forward-pass";
inline constexpr const char* kKindConfig = "config";
inline constexpr const char* kKindStateDir = "state-dir";
inline constexpr const char* kKindSshd = "sshd";
inline constexpr const char* kKindNotInStack = "not-in-stack";
inline constexpr const char* kKindStore = "store";

struct Finding {
    std::string service;  // "sshd", or empty for what every service shares (the config)
    std::string kind;     // one of the kKind* above
    std::string file;     // where to fix it, with `line` (0: the whole file)
    int line = 0;
    std::string message;            // one sentence
    std::vector<std::string> path;  // the lines of the stack that lead there, in words
};

struct Report {
    std::vector<Finding> findings;
    std::vector<std::string> notes;  // what was checked or could not be, not weaknesses
    std::vector<std::string> services;
    bool unreadable = false;  // some configuration could not be read
    bool incomplete = false;  // something was skipped or is not known: a way in may be hidden

    void add(Finding finding) { findings.push_back(std::move(finding)); }
    void note(std::string text) { notes.push_back(std::move(text)); }
};

// 0: no way around the code found; 1: found one (or a weakness); 2: could not read or
// follow everything (the findings printed still hold).
int exit_status(const Report& report);

void print_text(const Report& report, std::ostream& out);
void print_json(const Report& report, std::ostream& out);

}  // namespace totp_check
