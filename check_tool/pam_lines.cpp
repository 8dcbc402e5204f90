// SPDX-License-Identifier: Apache-2.0
#include "pam_lines.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <set>
#include <utility>

#include "totp/text.hpp"

namespace totp_check {
namespace {

// A word without spaces or control characters, and one way only to read it back.
std::string escaped(const std::string& text) {
    std::string out;
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte > ' ' && byte < 0x7f && byte != '\\') {
            out += c;
            continue;
        }
        char code[5];
        std::snprintf(code, sizeof code, "\\%03o", byte);
        out += code;
    }
    return out;
}

// Text for a message, whole: the project's one sanitizer (a newline in a file name as '?').
std::string printable(const std::string& text) {
    return totp::printable(text, std::string::npos);
}

// The names of the regular files of a pam.d directory, each a service; false when it
// exists but cannot be listed.
bool list_services(const std::string& directory, std::set<std::string>& services,
                   std::ostream& errors) {
    std::error_code error;
    if (!std::filesystem::exists(directory, error) && !error) return true;
    for (std::filesystem::directory_iterator it(directory, error), end; !error && it != end;
         it.increment(error)) {
        std::error_code type_error;
        if (it->is_regular_file(type_error)) services.insert(it->path().filename());
    }
    if (error) {
        errors << "totp-check: cannot list " << printable(directory) << ": " << error.message()
               << "\n";
        return false;
    }
    return true;
}

}  // namespace

bool print_pam_lines(const PamConfigDir& dir, const std::vector<std::string>& except,
                     std::ostream& out, std::ostream& errors) {
    // A service's file is found as libpam finds it: a vendor file with the same name as one
    // in /etc/pam.d is never read.
    std::set<std::string> services;
    bool complete = list_services(dir.etc_dir(), services, errors);
    complete = list_services(dir.vendor_dir(), services, errors) && complete;
    std::set<std::pair<std::string, int>> printed;  // a file included by many, once
    auto print_file = [&](const std::string& name, bool pam_conf) {
        const Stack stack = load_module_lines(dir, name, pam_conf);
        for (const Handler& handler : stack.handlers) {
            const bool names_module =
                handler.kind == HandlerKind::module || handler.kind == HandlerKind::unloadable;
            if (!names_module || handler.module != "pam_totp" ||
                !printed.emplace(handler.source.file, handler.source.line).second)
                continue;
            out << escaped(handler.source.file) << ":" << handler.source.line << ": "
                << escaped(handler.module_path);
            for (const std::string& argument : handler.args) out << " " << escaped(argument);
            out << "\n";
        }
        if (!stack.incomplete) return;
        complete = false;
        for (const std::string& problem : stack.problems)
            errors << "totp-check: " << printable(problem) << "\n";
    };
    // A service left out is not read for itself; a file of its reached from another
    // service still is.
    const auto left_out = [&](const std::string& service) {
        return std::any_of(except.begin(), except.end(), [&](const std::string& pattern) {
            return ::fnmatch(pattern.c_str(), service.c_str(), 0) == 0;
        });
    };
    for (const std::string& service : services)
        if (!left_out(service)) print_file(service, false);
    if (!dir.find("/etc/pam.conf").empty()) print_file("/etc/pam.conf", true);
    return complete;
}

}  // namespace totp_check
