// The one doctest runner for every unit test (keep test binaries few: builds are slow here).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
