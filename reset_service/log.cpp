// SPDX-License-Identifier: Apache-2.0
#include "log.hpp"

#include <syslog.h>

#include <cstdarg>

namespace resetd {
namespace {

void vlog(int priority, const char* format, va_list arguments) {
    vsyslog(LOG_AUTHPRIV | priority, format, arguments);
}

}  // namespace

void open_log(bool also_stderr) {
    // LOG_NDELAY connects now: the web process keeps the socket after it is confined.
    openlog("totp-resetd", LOG_PID | LOG_NDELAY | (also_stderr ? LOG_PERROR : 0), LOG_AUTHPRIV);
}

void log_error(const char* format, ...) {
    va_list arguments;
    va_start(arguments, format);
    vlog(LOG_ERR, format, arguments);
    va_end(arguments);
}

void log_warning(const char* format, ...) {
    va_list arguments;
    va_start(arguments, format);
    vlog(LOG_WARNING, format, arguments);
    va_end(arguments);
}

void log_info(const char* format, ...) {
    va_list arguments;
    va_start(arguments, format);
    vlog(LOG_INFO, format, arguments);
    va_end(arguments);
}

bool LogThrottle::admit(std::int64_t now) {
    const std::lock_guard lock(mutex_);
    if (now >= window_start_ + interval_ || now < window_start_) {
        window_start_ = now;
        written_in_window_ = 0;
    }
    if (written_in_window_ >= burst_) {
        ++held_back_;
        return false;
    }
    ++written_in_window_;
    last_held_back_ = held_back_;
    held_back_ = 0;
    return true;
}

std::uint64_t LogThrottle::held_back() {
    const std::lock_guard lock(mutex_);
    return held_back_;
}

std::uint64_t LogThrottle::last_held_back() {
    const std::lock_guard lock(mutex_);
    return last_held_back_;
}

}  // namespace resetd
