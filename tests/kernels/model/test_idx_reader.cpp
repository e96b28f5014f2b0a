// Tests for the IDX reader (kernels/idx_reader) and the Fashion-MNIST loader
// (kernels/dataset): good inputs give the exact dims and bytes, and every bad
// input (IDX header, gzip stream, missing file) throws DataError naming the
// file and the problem.

#include <doctest/doctest.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "kernels/base/random.h"
#include "kernels/model/dataset.h"
#include "kernels/model/idx_reader.h"
#include "tests/support/subprocess.h"

namespace {

namespace fs = std::filesystem;
using lowbit::kernels::DataError;
using lowbit::kernels::IdxArray;
using lowbit::kernels::kIdxMagicImages;
using lowbit::kernels::kIdxMagicLabels;
using lowbit::kernels::parse_idx;
using lowbit::kernels::read_gzip_file;
using lowbit::kernels::read_idx_file;
using lowbit::kernels::Rng;
using Bytes = std::vector<std::uint8_t>;

// A fresh folder under the system temp dir, unique per process and per use,
// removed when the test ends.
using lowbit::testing::TempDir;

void put_be32(Bytes& out, std::uint32_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 24));
  out.push_back(static_cast<std::uint8_t>(v >> 16));
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}

Bytes make_idx(std::uint32_t magic, const std::vector<std::uint32_t>& dims, const Bytes& data) {
  Bytes out;
  put_be32(out, magic);
  for (std::uint32_t d : dims) put_be32(out, d);
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

// `n` bytes in [0, limit) from a seeded stream.
Bytes seeded_bytes(std::uint64_t seed, std::size_t n, std::uint64_t limit = 256) {
  Rng rng(seed);
  Bytes out(n);
  for (auto& b : out) b = static_cast<std::uint8_t>(rng.below(limit));
  return out;
}

void write_plain(const fs::path& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

void write_gzip(const fs::path& path, const Bytes& bytes) {
  gzFile file = gzopen(path.string().c_str(), "wb");
  REQUIRE(file != nullptr);
  const int wrote =
      bytes.empty() ? 0 : gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size()));
  const int closed = gzclose(file);
  REQUIRE(wrote == static_cast<int>(bytes.size()));
  REQUIRE(closed == Z_OK);
}

Bytes read_plain(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Runs `f`, which must throw DataError; returns its message ("" if it did not).
template <typename F>
std::string data_error_message(F&& f) {
  try {
    f();
  } catch (const DataError& e) {
    return e.what();
  }
  FAIL_CHECK("expected a DataError, nothing was thrown");
  return "";
}

constexpr std::uint64_t kSeed = 20240611;

}  // namespace

// ---------------------------------------------------------------------------
// parse_idx on in-memory bytes

TEST_CASE("idx: parse_idx reads a 3-dim image file and a 1-dim label file exactly") {
  CAPTURE(kSeed);
  // Rows and cols differ so a swapped dimension shows.
  const std::vector<std::uint32_t> dims{5, 4, 3};
  const Bytes pixels = seeded_bytes(kSeed, 5 * 4 * 3);
  const IdxArray images =
      parse_idx(make_idx(kIdxMagicImages, dims, pixels), kIdxMagicImages, "img");
  CHECK(images.dims == dims);
  CHECK(images.data == pixels);

  const Bytes labels = seeded_bytes(kSeed + 1, 7, 10);
  const IdxArray parsed = parse_idx(make_idx(kIdxMagicLabels, {7}, labels), kIdxMagicLabels, "lbl");
  CHECK(parsed.dims == std::vector<std::uint32_t>{7});
  CHECK(parsed.data == labels);

  // Big-endian dimensions with every byte significant.
  const std::uint32_t big = 0x00010203;  // 66051
  const Bytes many = seeded_bytes(kSeed + 2, big);
  const IdxArray wide = parse_idx(make_idx(kIdxMagicLabels, {big}, many), kIdxMagicLabels, "wide");
  CHECK(wide.dims == std::vector<std::uint32_t>{big});
  CHECK(wide.data == many);
}

TEST_CASE("idx: parse_idx rejects a bad magic, naming the file and both numbers") {
  const Bytes labels = make_idx(kIdxMagicLabels, {3}, {0, 1, 2});
  // A label file where images are expected.
  std::string msg = data_error_message([&] { parse_idx(labels, kIdxMagicImages, "some/file.gz"); });
  CAPTURE(msg);
  CHECK(contains(msg, "some/file.gz"));
  CHECK(contains(msg, "magic"));
  CHECK(contains(msg, "2049"));
  CHECK(contains(msg, "2051"));

  // Non-zero leading bytes.
  Bytes garbage = labels;
  garbage[0] = 0x1f;
  garbage[1] = 0x8b;
  msg = data_error_message([&] { parse_idx(garbage, kIdxMagicLabels, "garbage"); });
  CHECK(contains(msg, "garbage"));
  CHECK(contains(msg, "magic"));
}

TEST_CASE("idx: parse_idx rejects a wrong element type byte") {
  // 0x0D is IDX float32; the rank byte stays right.
  Bytes bytes = make_idx(kIdxMagicImages, {1, 2, 2}, {1, 2, 3, 4});
  bytes[2] = 0x0D;
  const std::string msg = data_error_message([&] { parse_idx(bytes, kIdxMagicImages, "typed"); });
  CAPTURE(msg);
  CHECK(contains(msg, "typed"));
}

TEST_CASE("idx: parse_idx with a wrong type byte says the element type is the problem") {
  // idx_reader.cpp keeps a separate type check "so the message says what was
  // wrong", but the full-magic comparison runs first and swallows it.
  Bytes bytes = make_idx(kIdxMagicImages, {1, 2, 2}, {1, 2, 3, 4});
  bytes[2] = 0x0D;
  const std::string msg = data_error_message([&] { parse_idx(bytes, kIdxMagicImages, "typed"); });
  CAPTURE(msg);
  CHECK(contains(msg, "type"));
  CHECK(contains(msg, "0x0d"));
}

TEST_CASE("idx: parse_idx rejects a truncated header at every length") {
  const Bytes full = make_idx(kIdxMagicImages, {2, 2, 2}, Bytes(8, 7));
  // Header is 16 bytes: magic + 3 sizes. Every shorter prefix is truncated.
  for (std::size_t n = 0; n < 16; ++n) {
    CAPTURE(n);
    const Bytes cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    const std::string msg = data_error_message([&] { parse_idx(cut, kIdxMagicImages, "hdr.idx"); });
    CAPTURE(msg);
    CHECK(contains(msg, "hdr.idx"));
    // Below 4 bytes there is no magic to compare; from 4 on the magic is
    // right and the sizes are missing.
    CHECK(contains(msg, "truncated"));
  }
}

TEST_CASE("idx: parse_idx rejects truncated data and trailing bytes, giving the counts") {
  const Bytes data = seeded_bytes(kSeed, 2 * 3 * 4);
  const Bytes full = make_idx(kIdxMagicImages, {2, 3, 4}, data);
  REQUIRE_NOTHROW(parse_idx(full, kIdxMagicImages, "ok"));

  SUBCASE("one byte short") {
    const Bytes cut(full.begin(), full.end() - 1);
    const std::string msg =
        data_error_message([&] { parse_idx(cut, kIdxMagicImages, "short.idx"); });
    CAPTURE(msg);
    CHECK(contains(msg, "short.idx"));
    CHECK(contains(msg, "truncated"));
    CHECK(contains(msg, "23"));
    CHECK(contains(msg, "24"));
  }
  SUBCASE("header only") {
    const Bytes cut(full.begin(), full.begin() + 16);
    const std::string msg =
        data_error_message([&] { parse_idx(cut, kIdxMagicImages, "empty.idx"); });
    CAPTURE(msg);
    CHECK(contains(msg, "empty.idx"));
    CHECK(contains(msg, "truncated"));
  }
  SUBCASE("trailing bytes") {
    Bytes longer = full;
    longer.push_back(0);
    longer.push_back(0);
    longer.push_back(0);
    const std::string msg =
        data_error_message([&] { parse_idx(longer, kIdxMagicImages, "long.idx"); });
    CAPTURE(msg);
    CHECK(contains(msg, "long.idx"));
    CHECK(contains(msg, "3 unexpected bytes"));
  }
}

TEST_CASE("idx: parse_idx rejects a zero dimension in any position") {
  for (std::size_t zero_at = 0; zero_at < 3; ++zero_at) {
    CAPTURE(zero_at);
    std::vector<std::uint32_t> dims{2, 3, 4};
    dims[zero_at] = 0;
    const Bytes bytes = make_idx(kIdxMagicImages, dims, {});
    const std::string msg =
        data_error_message([&] { parse_idx(bytes, kIdxMagicImages, "zero.idx"); });
    CAPTURE(msg);
    CHECK(contains(msg, "zero.idx"));
    CHECK(contains(msg, "dimension " + std::to_string(zero_at) + " is zero"));
  }
  const std::string msg = data_error_message(
      [&] { parse_idx(make_idx(kIdxMagicLabels, {0}, {}), kIdxMagicLabels, "l"); });
  CHECK(contains(msg, "is zero"));
}

// ---------------------------------------------------------------------------
// read_gzip_file / read_idx_file on real files

TEST_CASE("gzip: read_gzip_file inflates a zlib-written file and reads a plain file as is") {
  CAPTURE(kSeed);
  TempDir dir("lowbit-test-idx-gzip-ok");
  const Bytes data = make_idx(kIdxMagicImages, {10, 28, 28}, seeded_bytes(kSeed, 10 * 28 * 28));
  const fs::path gz = dir.folder() / "images.gz";
  const fs::path plain = dir.folder() / "images.idx";
  write_gzip(gz, data);
  write_plain(plain, data);
  REQUIRE(fs::file_size(gz) != data.size());  // really compressed framing, not a copy

  CHECK(read_gzip_file(gz) == data);
  CHECK(read_gzip_file(plain) == data);

  const IdxArray a = read_idx_file(gz, kIdxMagicImages);
  const IdxArray b = read_idx_file(plain, kIdxMagicImages);
  CHECK(a.dims == std::vector<std::uint32_t>{10, 28, 28});
  CHECK(a.dims == b.dims);
  CHECK(a.data == b.data);
  CHECK(a.data == Bytes(data.begin() + 16, data.end()));

  // More than one 1 MiB read chunk, compressible content.
  Bytes big(3 * (std::size_t{1} << 20) + 12345);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::uint8_t>(i % 251);
  write_gzip(dir.folder() / "big.gz", big);
  CHECK(read_gzip_file(dir.folder() / "big.gz") == big);

  // Empty gzip stream: zero bytes, no error.
  write_gzip(dir.folder() / "empty.gz", {});
  CHECK(read_gzip_file(dir.folder() / "empty.gz").empty());
}

TEST_CASE("gzip: a missing file throws DataError naming the path and 'no such file'") {
  TempDir dir("lowbit-test-idx-gzip-missing");
  const fs::path missing = dir.folder() / "nope-idx1-ubyte.gz";
  std::string msg = data_error_message([&] { read_gzip_file(missing); });
  CAPTURE(msg);
  CHECK(contains(msg, missing.string()));
  CHECK(contains(msg, "no such file"));

  msg = data_error_message([&] { read_idx_file(missing, kIdxMagicLabels); });
  CHECK(contains(msg, missing.string()));
  CHECK(contains(msg, "no such file"));

  // A folder is not a data file either.
  msg = data_error_message([&] { read_gzip_file(dir.folder()); });
  CHECK(contains(msg, dir.folder().string()));
}

TEST_CASE("gzip: a gzip file truncated anywhere throws DataError naming the file") {
  CAPTURE(kSeed);
  TempDir dir("lowbit-test-idx-gzip-trunc");
  // Random bytes barely compress, so the deflate stream is about as long as
  // the data and a middle cut loses real data.
  const Bytes data = make_idx(kIdxMagicImages, {20, 28, 28}, seeded_bytes(kSeed, 20 * 28 * 28));
  const fs::path good = dir.folder() / "good.gz";
  write_gzip(good, data);
  const Bytes compressed = read_plain(good);
  const std::size_t n = compressed.size();
  REQUIRE(n > 100);

  // Cuts: inside the 10-byte gzip header, in the deflate stream, just before
  // the 8-byte trailer (CRC32 + size), inside the trailer, last byte.
  const std::vector<std::size_t> cuts{5, 12, n / 3, n / 2, n - 9, n - 8, n - 4, n - 1};
  for (std::size_t cut : cuts) {
    CAPTURE(cut);
    CAPTURE(n);
    const fs::path path = dir.folder() / ("cut-" + std::to_string(cut) + ".gz");
    write_plain(path,
                Bytes(compressed.begin(), compressed.begin() + static_cast<std::ptrdiff_t>(cut)));
    std::string msg = data_error_message([&] { read_gzip_file(path); });
    CAPTURE(msg);
    CHECK(contains(msg, path.string()));
    msg = data_error_message([&] { read_idx_file(path, kIdxMagicImages); });
    CHECK(contains(msg, path.string()));
  }
}

TEST_CASE("gzip: corrupted compressed bytes or CRC throw DataError naming the file") {
  CAPTURE(kSeed);
  TempDir dir("lowbit-test-idx-gzip-corrupt");
  // Compressible data (real Huffman blocks) and random data (stored blocks).
  Bytes text(50000);
  for (std::size_t i = 0; i < text.size(); ++i)
    text[i] = static_cast<std::uint8_t>("fashion"[i % 7]);
  const std::array<Bytes, 2> inputs{text, seeded_bytes(kSeed, 50000)};
  for (std::size_t which = 0; which < inputs.size(); ++which) {
    CAPTURE(which);
    const fs::path good = dir.folder() / ("good-" + std::to_string(which) + ".gz");
    write_gzip(good, inputs[which]);
    const Bytes compressed = read_plain(good);
    const std::size_t n = compressed.size();
    REQUIRE(n > 40);

    struct Flip {
      std::string what;
      std::size_t at;
    };
    const std::vector<Flip> flips{
        {"CRC32 byte", n - 8},        {"CRC32 last byte", n - 5},
        {"ISIZE byte", n - 4},        {"deflate stream middle", 10 + (n - 18) / 2},
        {"deflate stream start", 11},
    };
    for (const Flip& flip : flips) {
      CAPTURE(flip.what);
      CAPTURE(flip.at);
      Bytes bad = compressed;
      bad[flip.at] ^= 0x5a;
      const fs::path path =
          dir.folder() / ("bad-" + std::to_string(which) + "-" + std::to_string(flip.at) + ".gz");
      write_plain(path, bad);
      const std::string msg = data_error_message([&] { read_gzip_file(path); });
      CAPTURE(msg);
      CHECK(contains(msg, path.string()));
    }
  }
}

// ---------------------------------------------------------------------------
// load_fashion_mnist on a synthetic folder

namespace {

constexpr const char* kFiles[4] = {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                                   "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"};

struct Synthetic {
  Bytes train_pixels = seeded_bytes(kSeed, 6 * 4 * 3);
  Bytes train_labels = seeded_bytes(kSeed + 1, 6, 10);
  Bytes test_pixels = seeded_bytes(kSeed + 2, 2 * 4 * 3);
  Bytes test_labels = seeded_bytes(kSeed + 3, 2, 10);

  std::array<Bytes, 4> files() const {
    return {make_idx(kIdxMagicImages, {6, 4, 3}, train_pixels),
            make_idx(kIdxMagicLabels, {6}, train_labels),
            make_idx(kIdxMagicImages, {2, 4, 3}, test_pixels),
            make_idx(kIdxMagicLabels, {2}, test_labels)};
  }
  void write(const fs::path& dir) const {
    const auto f = files();
    for (int i = 0; i < 4; ++i) write_gzip(dir / kFiles[i], f[static_cast<std::size_t>(i)]);
  }
};

}  // namespace

TEST_CASE("fashion: load_fashion_mnist reads a small synthetic folder exactly") {
  CAPTURE(kSeed);
  TempDir dir("lowbit-test-idx-fashion-ok");
  const Synthetic syn;
  syn.write(dir.folder());
  const auto data = lowbit::kernels::load_fashion_mnist(dir.folder());
  CHECK(data.classes == 10);
  CHECK(data.train.count == 6);
  CHECK(data.train.rows == 4);
  CHECK(data.train.cols == 3);
  CHECK(data.train.pixels == syn.train_pixels);
  CHECK(data.train.labels == syn.train_labels);
  CHECK(data.test.count == 2);
  CHECK(data.test.rows == 4);
  CHECK(data.test.cols == 3);
  CHECK(data.test.pixels == syn.test_pixels);
  CHECK(data.test.labels == syn.test_labels);
  REQUIRE(data.hash.size() == 16);
  CHECK(std::all_of(data.hash.begin(), data.hash.end(),
                    [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }));

  // The hash covers the data: one changed test pixel changes it; equal data
  // gives an equal hash.
  CHECK(lowbit::kernels::load_fashion_mnist(dir.folder()).hash == data.hash);
  Synthetic changed = syn;
  changed.test_pixels[5] ^= 1;
  changed.write(dir.folder());
  CHECK(lowbit::kernels::load_fashion_mnist(dir.folder()).hash != data.hash);
}

TEST_CASE("fashion: a missing or corrupt file throws DataError naming that file") {
  CAPTURE(kSeed);
  const Synthetic syn;
  // Plain loops, not SUBCASEs: every file gets every kind of damage.
  for (int i = 0; i < 4; ++i) {
    const fs::path name = kFiles[i];
    CAPTURE(name.string());
    const auto index = static_cast<std::size_t>(i);
    const bool is_images = i % 2 == 0;
    const auto files = syn.files();

    struct Damage {
      std::string what;
      const char* expect;  // a word the message must hold besides the path
      std::function<void(const fs::path&)> apply;
    };
    const std::vector<Damage> damages{
        {"missing", "no such file", [&](const fs::path& p) { fs::remove(p); }},
        {"gzip stream cut in half", "gzip",
         [&](const fs::path& p) {
           const Bytes gz = read_plain(p);
           write_plain(p,
                       Bytes(gz.begin(), gz.begin() + static_cast<std::ptrdiff_t>(gz.size() / 2)));
         }},
        {"other IDX kind (labels and images swapped)", "magic",
         [&](const fs::path& p) { write_gzip(p, files[is_images ? index + 1 : index - 1]); }},
        {"IDX data one byte short inside a valid gzip stream", "truncated",
         [&](const fs::path& p) {
           // A copy without the last byte (pop_back trips a g++ 12 -Warray-bounds false positive).
           const Bytes& whole = files[index];
           write_gzip(p, Bytes(whole.begin(), whole.end() - 1));
         }},
    };
    for (const Damage& damage : damages) {
      CAPTURE(damage.what);
      TempDir dir("lowbit-test-idx-fashion-damage");
      syn.write(dir.folder());
      damage.apply(dir.folder() / name);
      const std::string msg =
          data_error_message([&] { lowbit::kernels::load_fashion_mnist(dir.folder()); });
      CAPTURE(msg);
      CHECK(contains(msg, (dir.folder() / name).string()));
      CHECK(contains(msg, damage.expect));
    }
  }
}

TEST_CASE("fashion: bad labels and mismatched shapes throw DataError naming the file") {
  CAPTURE(kSeed);
  TempDir dir("lowbit-test-idx-fashion-labels");
  SUBCASE("label 10 is not a class") {
    Synthetic syn;
    syn.test_labels[1] = 10;
    syn.write(dir.folder());
    const std::string msg =
        data_error_message([&] { lowbit::kernels::load_fashion_mnist(dir.folder()); });
    CAPTURE(msg);
    CHECK(contains(msg, (dir.folder() / kFiles[3]).string()));
    CHECK(contains(msg, "label 10 at index 1"));
  }
  SUBCASE("label count differs from image count") {
    Synthetic syn;
    syn.write(dir.folder());
    write_gzip(dir.folder() / kFiles[1], make_idx(kIdxMagicLabels, {5}, Bytes(5, 1)));
    const std::string msg =
        data_error_message([&] { lowbit::kernels::load_fashion_mnist(dir.folder()); });
    CAPTURE(msg);
    CHECK(contains(msg, (dir.folder() / kFiles[1]).string()));
    CHECK(contains(msg, "5 labels for 6 images"));
  }
  SUBCASE("test images of another size than train images") {
    Synthetic syn;
    syn.write(dir.folder());
    write_gzip(dir.folder() / kFiles[2], make_idx(kIdxMagicImages, {2, 3, 4}, syn.test_pixels));
    const std::string msg =
        data_error_message([&] { lowbit::kernels::load_fashion_mnist(dir.folder()); });
    CAPTURE(msg);
    CHECK(contains(msg, dir.folder().string()));
    CHECK(contains(msg, "4x3"));
    CHECK(contains(msg, "3x4"));
  }
}

// ---------------------------------------------------------------------------
// The real data set: must be there (a skipped check is a failure).

TEST_CASE("fashion: the installed Fashion-MNIST loads with the published shape") {
  const fs::path dir = lowbit::kernels::default_fashion_mnist_dir();
  CAPTURE(dir.string());
  CHECK(dir == fs::path("/usr/share/datasets/fashion-mnist"));
  INFO("Fashion-MNIST must be installed (Debian package dataset-fashion-mnist)");
  REQUIRE(fs::is_directory(dir));

  const auto data = lowbit::kernels::load_fashion_mnist(dir);
  CHECK(data.classes == 10);
  CHECK(data.train.count == 60000);
  CHECK(data.test.count == 10000);
  CHECK(data.train.rows == 28);
  CHECK(data.train.cols == 28);
  CHECK(data.test.rows == 28);
  CHECK(data.test.cols == 28);
  CHECK(data.train.pixels.size() == std::size_t{60000} * 28 * 28);
  CHECK(data.test.pixels.size() == std::size_t{10000} * 28 * 28);
  REQUIRE(data.train.labels.size() == 60000);
  REQUIRE(data.test.labels.size() == 10000);

  // Fashion-MNIST is balanced: 6000 train and 1000 test images per class.
  std::array<int, 10> train_per_class{};
  std::array<int, 10> test_per_class{};
  bool labels_in_range = true;
  for (std::uint8_t l : data.train.labels) {
    if (l < 10)
      ++train_per_class[l];
    else
      labels_in_range = false;
  }
  for (std::uint8_t l : data.test.labels) {
    if (l < 10)
      ++test_per_class[l];
    else
      labels_in_range = false;
  }
  CHECK(labels_in_range);
  for (int c = 0; c < 10; ++c) {
    CAPTURE(c);
    CHECK(train_per_class[static_cast<std::size_t>(c)] == 6000);
    CHECK(test_per_class[static_cast<std::size_t>(c)] == 1000);
  }
  // Real images, not zeros: some ink and some background in the first image.
  const auto* first = data.train.image(0);
  CHECK(std::any_of(first, first + 784, [](std::uint8_t p) { return p > 128; }));
  CHECK(std::any_of(first, first + 784, [](std::uint8_t p) { return p == 0; }));

  REQUIRE(data.hash.size() == 16);
  CHECK(std::all_of(data.hash.begin(), data.hash.end(),
                    [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }));
  const auto again = lowbit::kernels::load_fashion_mnist(dir);
  CHECK(again.hash == data.hash);
  CHECK(again.train.labels == data.train.labels);
}
