// docs/errors.md names a pinning test for every entry; this checks that each named test exists,
// so the catalogue cannot point at a test that was renamed or removed.
#include <doctest/doctest.h>

#include <regex>

#include "test_support.hpp"

TEST_CASE("every test named in docs/errors.md exists") {
    const std::string root = TRANSCODE_SOURCE_DIR;
    const std::string catalogue = transcode::test::read_file(root + "/docs/errors.md");
    REQUIRE_FALSE(catalogue.empty());
    const std::regex entry(R"re(- Test: `([a-z_]+\.cpp)` — "([^"]+)")re");
    int count = 0;
    for (std::sregex_iterator it(catalogue.begin(), catalogue.end(), entry), end; it != end; ++it) {
        const std::string file = (*it)[1], name = (*it)[2];
        CAPTURE(file);
        CAPTURE(name);
        const std::string source = transcode::test::read_file(root + "/tests/unit/" + file);
        CHECK(source.find("TEST_CASE(\"" + name + "\")") != std::string::npos);
        ++count;
    }
    CHECK(count >= 30);
}
