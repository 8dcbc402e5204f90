# SPDX-License-Identifier: Apache-2.0
# totp_precompile_standard_headers(): every target of the project whose sources are all C++
# uses one precompiled header of the common standard headers (CMakeLists.txt says why and
# when: option TOTP_PRECOMPILE_HEADERS).
# A compiler uses a precompiled header only when it compiles in the same position-independent
# mode it was made in, so there are two: one for libraries and modules (-fPIC), one for
# programs (-fPIE; CMAKE_POSITION_INDEPENDENT_CODE is on). Each is made once, by a small
# target of its own; a target that turns position-independent code off gets neither.

set(TOTP_PRECOMPILED_STANDARD_HEADERS
    <algorithm> <array> <cerrno> <charconv> <chrono> <cstdint> <cstdio> <cstdlib> <cstring>
    <ctime> <filesystem> <fstream> <functional> <iterator> <map> <memory> <optional> <set>
    <sstream> <string> <string_view> <utility> <vector>)

# The targets defined in DIRECTORY and below it, into OUT.
function(totp_targets_below directory out)
    get_property(targets DIRECTORY "${directory}" PROPERTY BUILDSYSTEM_TARGETS)
    get_property(subdirectories DIRECTORY "${directory}" PROPERTY SUBDIRECTORIES)
    foreach(subdirectory IN LISTS subdirectories)
        totp_targets_below("${subdirectory}" below)
        list(APPEND targets ${below})
    endforeach()
    set(${out} ${targets} PARENT_SCOPE)
endfunction()

# Whether TARGET compiles only C++ sources (a C file cannot use a C++ precompiled header).
function(totp_only_cxx_sources target out)
    get_target_property(sources ${target} SOURCES)
    set(result FALSE)
    foreach(source IN LISTS sources)
        if(source MATCHES "\\.(cpp|cc|cxx)$")
            set(result TRUE)
        elseif(NOT source MATCHES "\\.(hpp|h|hh|hxx)$")
            set(result FALSE)
            break()
        endif()
    endforeach()
    set(${out} ${result} PARENT_SCOPE)
endfunction()

function(totp_precompile_standard_headers)
    totp_targets_below("${PROJECT_SOURCE_DIR}" targets)
    set(maker_source "${PROJECT_BINARY_DIR}/precompiled_headers.cpp")
    file(CONFIGURE OUTPUT "${maker_source}" CONTENT "int main() { return 0; }\n")
    add_library(totp_precompiled_for_libraries STATIC "${maker_source}")
    add_executable(totp_precompiled_for_programs "${maker_source}")
    foreach(maker totp_precompiled_for_libraries totp_precompiled_for_programs)
        target_precompile_headers(${maker} PRIVATE ${TOTP_PRECOMPILED_STANDARD_HEADERS})
    endforeach()
    foreach(target IN LISTS targets)
        get_target_property(type ${target} TYPE)
        get_target_property(position_independent ${target} POSITION_INDEPENDENT_CODE)
        if(NOT position_independent)
            continue()
        endif()
        if(type STREQUAL "EXECUTABLE")
            set(maker totp_precompiled_for_programs)
        elseif(type MATCHES "^(STATIC_LIBRARY|SHARED_LIBRARY|MODULE_LIBRARY|OBJECT_LIBRARY)$")
            set(maker totp_precompiled_for_libraries)
        else()
            continue()
        endif()
        totp_only_cxx_sources(${target} only_cxx)
        if(only_cxx)
            target_precompile_headers(${target} REUSE_FROM ${maker})
        endif()
    endforeach()
endfunction()
