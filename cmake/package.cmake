# `cpack -G DEB` in the build folder builds two Debian packages, split as
# Debian splits a library, so that every node of a cluster installs the same
# build (`apt install ./rnnflow_*.deb`) without compilers or headers:
#   rnnflow_<version>_<arch>.deb      the library and the `rnnflow` command
#                                     (component runtime)
#   rnnflow-dev_<version>_<arch>.deb  headers, CMake package and rnnflow.pc for
#                                     building programs against it (component dev)
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME rnnflow)
set(CPACK_PACKAGE_VENDOR rnnflow)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "Training recurrent neural networks on oneDNN, with MPI data parallelism")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime dev)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "rnnflow developers")
set(CPACK_DEBIAN_PACKAGE_SECTION science)

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME rnnflow)
set(CPACK_DEBIAN_RUNTIME_DESCRIPTION "${CPACK_PACKAGE_DESCRIPTION_SUMMARY}
 The shared library librnnflow and the rnnflow command (prepare, train, eval,
 generate, validate, ...), for every node of a cluster.")
# dpkg-shlibdeps (dpkg-dev) turns what the binaries link into dependencies on
# Debian's library packages (libdnnl2, libprotobuf32, libabsl, libopenmpi3,
# libgomp1, ...); a shlibs file lets other packages depend on librnnflow.
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
# mpirun, for data-parallel training.
set(CPACK_DEBIAN_RUNTIME_PACKAGE_RECOMMENDS openmpi-bin)

set(CPACK_DEBIAN_DEV_PACKAGE_NAME rnnflow-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_DESCRIPTION "${CPACK_PACKAGE_DESCRIPTION_SUMMARY} (development files)
 Headers <rnnflow/...>, the CMake package (find_package(rnnflow)) and
 rnnflow.pc, for building programs against librnnflow.")
# The public headers include protobuf, Abseil and MPI's C API.
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
  "rnnflow (= ${PROJECT_VERSION}), libprotobuf-dev, libabsl-dev, libopenmpi-dev")

include(CPack)
