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

}  // namespace resetd
