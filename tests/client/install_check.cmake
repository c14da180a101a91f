# Installs the build tree into a scratch prefix and compiles an example with only
# `pkg-config --cflags --libs gearbox`, then runs it with an unreachable server and checks the
# actionable error. Run with: cmake -DBUILD_DIR=... -DSOURCE=... -DWORK=... -P install_check.cmake
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK}/prefix
                        --component gearbox-dev
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install failed: ${rc}")
endif()
file(GLOB_RECURSE pc ${WORK}/prefix/*/gearbox.pc)
if(NOT pc)
  message(FATAL_ERROR "gearbox.pc was not installed")
endif()
get_filename_component(pcdir ${pc} DIRECTORY)
set(ENV{PKG_CONFIG_PATH} ${pcdir})
execute_process(COMMAND pkg-config --cflags --libs gearbox OUTPUT_VARIABLE flags
                RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pkg-config gearbox failed")
endif()
separate_arguments(flags UNIX_COMMAND "${flags} ${EXTRA_FLAGS}")
execute_process(COMMAND c++ -std=c++20 ${SOURCE} -o ${WORK}/reverse_client ${flags}
                RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "compiling against the installed library failed:\n${err}")
endif()
execute_process(COMMAND ${WORK}/reverse_client 127.0.0.1:1
                RESULT_VARIABLE rc ERROR_VARIABLE err OUTPUT_QUIET)
if(rc EQUAL 0 OR NOT err MATCHES "127.0.0.1:1")
  message(FATAL_ERROR "expected a connection error naming 127.0.0.1:1, got rc=${rc}: ${err}")
endif()
message(STATUS "installed library OK: ${flags}")
