// TempFile: a file with the given content in a fresh temporary directory, removed with it when the test is done.
#pragma once

#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace greenfinch::test {

class TempFile {
public:
    explicit TempFile(const std::string& content) {
        char dir[] = "/tmp/greenfinch-config-XXXXXX";
        REQUIRE(::mkdtemp(dir) != nullptr);
        dir_ = dir;
        path_ = dir_ + "/greenfinch.toml";
        std::ofstream(path_) << content;
    }
    ~TempFile() { std::filesystem::remove_all(dir_); }
    const std::string& path() const { return path_; }

private:
    std::string dir_;
    std::string path_;
};

}  // namespace greenfinch::test
