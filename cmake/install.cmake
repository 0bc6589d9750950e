# `cmake --install`: the library and the `rnnflow` command (component
# runtime), and what building against them needs (component dev): the public
# headers, the CMake package rnnflow::rnnflow and rnnflow.pc. Every installed
# path is relative to the prefix, so the same build installs to a temporary
# prefix, /usr/local or, packaged by cmake/package.cmake, /usr.
include(CMakePackageConfigHelpers)

install(TARGETS rnnflow EXPORT rnnflowTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT dev)
install(TARGETS rnnflow_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)

# Public headers, as <rnnflow/LAYER/FILE.h>: every header of the library's
# layers, internal/ folders included since public headers include some of
# them (dataset/csv.h includes dataset/internal/data_io.h). ops/internal/ is
# the exception: no public header includes it, and its oneDNN helpers would
# make consumers need oneDNN's headers. conformance/ is not installed.
file(GLOB_RECURSE RNNFLOW_PUBLIC_HEADERS RELATIVE ${CMAKE_CURRENT_SOURCE_DIR} CONFIGURE_DEPENDS
  base/*.h graph/*.h runtime/*.h ops/*.h dataset/*.h training/*.h inference/*.h dist/*.h)
list(FILTER RNNFLOW_PUBLIC_HEADERS EXCLUDE REGEX "^ops/internal/")
foreach(header ${RNNFLOW_PUBLIC_HEADERS})
  get_filename_component(dir ${header} DIRECTORY)
  install(FILES ${header} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/rnnflow/${dir} COMPONENT dev)
endforeach()
install(FILES ${RNNFLOW_INCLUDE_DIR}/rnnflow/proto/rnnflow.pb.h proto/rnnflow.proto
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/rnnflow/proto COMPONENT dev)

# find_package(rnnflow 0.2) then target_link_libraries(app PRIVATE rnnflow::rnnflow).
# Any 0.2.x satisfies 0.2 (SameMinorVersion: a 0.x minor release breaks the API).
set(RNNFLOW_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/rnnflow)
install(EXPORT rnnflowTargets NAMESPACE rnnflow:: DESTINATION ${RNNFLOW_CMAKE_DIR}
  COMPONENT dev)
configure_package_config_file(cmake/rnnflowConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/rnnflowConfig.cmake INSTALL_DESTINATION ${RNNFLOW_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/rnnflowConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/rnnflowConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/rnnflowConfigVersion.cmake
  DESTINATION ${RNNFLOW_CMAKE_DIR} COMPONENT dev)

# pkg-config: the prefix is found from the .pc file's own folder.
file(RELATIVE_PATH RNNFLOW_PC_TO_PREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
string(REGEX REPLACE "/$" "" RNNFLOW_PC_TO_PREFIX ${RNNFLOW_PC_TO_PREFIX})
configure_file(cmake/rnnflow.pc.in ${CMAKE_CURRENT_BINARY_DIR}/rnnflow.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/rnnflow.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)
