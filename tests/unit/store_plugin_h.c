/* SPDX-License-Identifier: Apache-2.0 */
/* The backend interface is C: this file compiles it as strict C99 (ctest
 * unit.store_plugin_h_compiles_as_c), so a C++-only construct in the header fails. */
#include "totp/store_plugin.h"

static struct totp_store_plugin_v1 table;

int main(void) {
    table.abi_version = TOTP_STORE_PLUGIN_ABI_VERSION;
    table.struct_size = sizeof table;
    struct totp_store_reset_token token = {{0}, {0}, 0};
    struct totp_store_options options = {"", "", NULL, 0, 3};
    enum totp_store_status status = TOTP_STORE_OK;
    totp_store_plugin_entry_fn* entry = totp_store_plugin_entry;
    return (int)status + (int)token.expires + options.connect_timeout - 3 +
           (int)(table.abi_version - TOTP_STORE_PLUGIN_ABI_VERSION) + (entry == NULL);
}
