# `cmake --install`: headers, libaisle, the aisle CLI, and a CMake package so that other projects
# can `find_package(aisle)` and link `aisle::aisle`.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS aisle EXPORT aisleTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/aisle DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.hpp")
install(FILES ${PROJECT_BINARY_DIR}/include/aisle/config.hpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/aisle)
install(TARGETS aisle_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

install(EXPORT aisleTargets NAMESPACE aisle:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/aisle)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/aisleConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/aisleConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/aisle)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/aisleConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/aisleConfig.cmake ${PROJECT_BINARY_DIR}/aisleConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/aisle)
