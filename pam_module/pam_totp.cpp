// SPDX-License-Identifier: Apache-2.0
// pam_totp.so entry points: load the settings, find the user, run the second factor.
// No C++ exception may leave this file.
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <syslog.h>

#include <exception>
#include <memory>

#include "authenticate.hpp"
#include "options.hpp"
#include "pam_session.hpp"
#include "totp/clock.hpp"
#include "totp/store.hpp"
#include "totp/store_factory.hpp"
#include "totp/translation.hpp"

namespace {

int authenticate_user(pam_handle_t* pamh, int flags, int argc, const char** argv) {
    pam_totp::PamSession session(pamh, flags);
    totp::bind_catalog();
    const pam_totp::ModuleOptions options = pam_totp::load_options(argc, argv);
    for (const auto& problem : options.problems) session.log_plain(LOG_ERR, problem.message);
    if (options.must_fail_closed()) {
        session.log_plain(LOG_ERR, "security-relevant configuration error, refusing all logins");
        return PAM_SERVICE_ERR;
    }

    if (const int rc = session.fetch_user(); rc != PAM_SUCCESS) {
        return rc == PAM_CONV_AGAIN ? PAM_INCOMPLETE : rc;
    }

    const totp::Result<std::unique_ptr<totp::Store>> store = totp::make_store(options.settings);
    if (!store) {
        session.log_plain(LOG_ERR, pam_totp::store_failure_line("cannot use the store",
                                                                store.error(), options.settings));
        return PAM_AUTH_ERR;
    }
    const totp::SystemClock clock;
    return pam_totp::authenticate(session, options.settings, **store, clock);
}

}  // namespace

#ifdef TOTP_OWN_CXX_RUNTIME
// The module's own copy of libstdc++ (totp_own_cxx_runtime() in CMakeLists.txt) allocates an
// emergency pool for exceptions (about 71 KiB) when it is loaded and never frees it: every
// pam_end() that unloads the module would leak it in a long-lived process (a display
// manager, polkit). __gnu_cxx::__freeres() is libstdc++'s hook for freeing it (valgrind
// calls it at exit); no header declares it, hence the symbol name. It runs when the module
// is unloaded (or at exit), when none of its code runs any more: the pool is only used by
// a throw that finds malloc failing.
void free_cxx_runtime_pool() __asm__("_ZN9__gnu_cxx9__freeresEv");

namespace {
__attribute__((destructor)) void free_pool_on_unload() {
    free_cxx_runtime_pool();
}
}  // namespace
#endif

extern "C" {

PAM_EXTERN int pam_sm_authenticate(pam_handle_t* pamh, int flags, int argc, const char** argv) {
    try {
        return authenticate_user(pamh, flags, argc, argv);
    } catch (const std::exception& error) {
        pam_syslog(pamh, LOG_CRIT, "internal error, failing closed: %s", error.what());
    } catch (...) {
        pam_syslog(pamh, LOG_CRIT, "internal error, failing closed");
    }
    return PAM_AUTH_ERR;
}

PAM_EXTERN int pam_sm_setcred(pam_handle_t* /*pamh*/, int /*flags*/, int /*argc*/,
                              const char** /*argv*/) {
    return PAM_SUCCESS;
}

}  // extern "C"
