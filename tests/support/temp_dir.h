// A directory from mkdtemp for tests that need files on disk; removed, with the files the test
// named through File(), when the TempDir goes.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace xflowd::testing {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/xflowd-test.XXXXXX";
    const char* d = mkdtemp(tmpl);
    path_ = d ? d : "";
  }
  ~TempDir() {
    for (const std::string& f : files_) ::unlink(f.c_str());
    if (!path_.empty()) ::rmdir(path_.c_str());
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  bool ok() const { return !path_.empty(); }
  const std::string& path() const { return path_; }
  // The path of `name` in the directory, removed with it.
  std::string File(const std::string& name) {
    files_.push_back(path_ + "/" + name);
    return files_.back();
  }

 private:
  std::string path_;
  std::vector<std::string> files_;
};

}  // namespace xflowd::testing
