# Writes the provenance header (sim/version.h.in -> OUT) with the sha of the commit being built.
# Run by the roisim_version target at every build, not only at configure time, so that a build made
# after new commits records their sha; configure_file leaves OUT untouched when nothing changed.
#   cmake -DSRC=<source dir> -DIN=<version.h.in> -DOUT=<version.h> -DPROJECT_VERSION=<v>
#         -DCMAKE_BUILD_TYPE=<type> -P tools/gen_version.cmake
execute_process(COMMAND git rev-parse --short=12 HEAD WORKING_DIRECTORY "${SRC}"
                OUTPUT_VARIABLE ROISIM_GIT_SHA OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT ROISIM_GIT_SHA)
  set(ROISIM_GIT_SHA "unknown")
endif()
configure_file("${IN}" "${OUT}" @ONLY)
