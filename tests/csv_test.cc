// CSV reading and series preparation (dataset/csv.h) and the series reader
// (dataset/series_reader.h).
#include "rnnflow/dataset/csv.h"

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rnnflow/dataset/series_reader.h"

namespace rnnflow {
namespace {

std::string WriteFile(const std::string& name, const std::string& contents) {
  const std::string path = testing::TempDir() + "/" + name;
  std::ofstream(path, std::ios::binary) << contents;
  return path;
}

std::vector<std::vector<std::string>> ReadCsv(const std::string& path, int64_t block = 1 << 20) {
  auto reader = CsvReader::Open(path, block);
  EXPECT_TRUE(reader.ok()) << reader.status();
  std::vector<std::vector<std::string>> rows;
  std::vector<CsvField> fields;
  for (;;) {
    auto more = (*reader)->Next(&fields);
    EXPECT_TRUE(more.ok()) << more.status();
    if (!more.ok() || !*more) break;
    std::vector<std::string> row;
    for (const CsvField& f : fields) row.push_back(f.text);
    rows.push_back(row);
  }
  return rows;
}

std::string ErrorOf(const std::string& path) {
  auto reader = CsvReader::Open(path);
  if (!reader.ok()) return std::string(reader.status().message());
  std::vector<CsvField> fields;
  for (;;) {
    auto more = (*reader)->Next(&fields);
    if (!more.ok()) return std::string(more.status().message());
    if (!*more) return "no error";
  }
}

TEST(CsvTest, QuotedFieldsCrlfBlankLinesAndBom) {
  const std::string text =
      "\xEF\xBB\xBF"
      "date,name,close\r\n"
      "2020-01-01,\"Smith, J.\",1.5\r\n"
      "\r\n"
      "2020-01-02,\"say \"\"hi\"\"\",2\r\n"
      "2020-01-03,\"two\r\nlines\",\r\n"
      "2020-01-04,5'10\",\"\"\n"
      "2020-01-05,old mac,3\r"
      "2020-01-06,last,4";  // no final line break
  const std::string path = WriteFile("quoted.csv", text);
  for (int64_t block : {1, 3, 1 << 20}) {
    const auto rows = ReadCsv(path, block);
    const std::vector<std::vector<std::string>> expected = {
        {"date", "name", "close"},         {"2020-01-01", "Smith, J.", "1.5"},
        {"2020-01-02", "say \"hi\"", "2"}, {"2020-01-03", "two\r\nlines", ""},
        {"2020-01-04", "5'10\"", ""},      {"2020-01-05", "old mac", "3"},
        {"2020-01-06", "last", "4"},
    };
    EXPECT_EQ(rows, expected) << "block " << block;
  }
  // Positions: line and column of each field.
  auto reader = CsvReader::Open(path);
  ASSERT_TRUE(reader.ok());
  std::vector<CsvField> f;
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(*(*reader)->Next(&f));
  EXPECT_EQ((*reader)->record_line(), 5);
  EXPECT_EQ(f[1].line, 5);
  EXPECT_EQ(f[1].column, 12);
  EXPECT_TRUE(f[1].quoted);
  EXPECT_EQ(f[2].line, 6);  // after the quoted line break
  EXPECT_EQ(f[2].column, 8);
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(*(*reader)->Next(&f));
  EXPECT_EQ((*reader)->record_line(), 8);  // a lone CR ended line 7
}

TEST(CsvTest, MalformedQuotingNamesLineAndColumn) {
  std::string path = WriteFile("open_quote.csv", "a,b\n1,\"abc\n2,3\n");
  EXPECT_EQ(ErrorOf(path),
            path + ":2:3: the quoted field is never closed (the file ends inside it)");
  path = WriteFile("after_quote.csv", "a,b,c\n1,\"ab\"x,3\n");
  EXPECT_EQ(ErrorOf(path), path +
                               ":2:7: unexpected 'x' after a closing quote; expected ',' or the "
                               "end of the line (write a quote inside a quoted field as \"\")");
}

SeriesPrepareOptions Columns(std::vector<std::string> columns,
                             MissingPolicy missing = MissingPolicy::kError) {
  SeriesPrepareOptions o;
  o.columns = std::move(columns);
  o.missing = missing;
  return o;
}

std::string Out(const std::string& name) { return testing::TempDir() + "/" + name; }

TEST(CsvTest, WrongFieldCountsAreErrors) {
  const std::string path = WriteFile("counts.csv", "date,open,close\nd1,1,2\nd2,1,2,9\nd3,1\n");
  auto r = PrepareSeries(path, Out("counts"), Columns({"close"}));
  EXPECT_EQ(r.status().message(), path + ":3:8: row has 4 fields; the header has 3");
  const std::string few = WriteFile("few.csv", "date,open,close\r\nd1,1,2\r\nd3\r\n");
  r = PrepareSeries(few, Out("counts"), Columns({"close"}, MissingPolicy::kDrop));
  EXPECT_EQ(r.status().message(), few + ":3:1: row has 1 field; the header has 3");
}

TEST(CsvTest, NonNumericAndMissingValuesAreErrorsByDefault) {
  const std::string path = WriteFile("prices.csv",
                                     "date,open,close\n"
                                     "2020-01-01,1.0,2.0\n"
                                     "2020-01-02,1.5,\"n/a\"\n"
                                     "2020-01-03,1.5,\n");
  auto r = PrepareSeries(path, Out("prices"), Columns({"open", "close"}));
  EXPECT_EQ(r.status().message(), path + ":3:16: column 'close': expected a number; got \"n/a\"");
  const std::string empty = WriteFile("empty_value.csv",
                                      "date,open,close\n"
                                      "2020-01-01,1.0,2.0\n"
                                      "2020-01-03,1.5,\n");
  r = PrepareSeries(empty, Out("prices"), Columns({"close"}));
  EXPECT_EQ(r.status().message(),
            empty + ":3:16: column 'close': expected a number; got an empty field");
  const std::string nan = WriteFile("nan.csv", "x\n1\nnan\n");
  r = PrepareSeries(nan, Out("prices"), Columns({"x"}));
  EXPECT_EQ(r.status().message(), nan + ":3:1: column 'x': expected a number; got \"nan\"");
}

TEST(CsvTest, UnknownAndDuplicateColumnsAreErrors) {
  const std::string path = WriteFile("cols.csv", "date,open,close,open\nd,1,2,3\n");
  auto r = PrepareSeries(path, Out("cols"), Columns({"volume"}));
  EXPECT_EQ(r.status().message(),
            path + ":1:1: no column 'volume' in the header; it has: date, open, close, open");
  r = PrepareSeries(path, Out("cols"), Columns({"open"}));
  EXPECT_EQ(r.status().message(),
            path + ":1:17: column 'open' appears twice in the header (also at column 6)");
  r = PrepareSeries(path, Out("cols"), Columns({}));
  EXPECT_EQ(r.status().message(),
            path +
                ": no columns selected (SeriesPrepareOptions::columns is empty); the header "
                "has: date, open, close, open");
  EXPECT_EQ(ParseMissingPolicy("zero").status().message(),
            "unknown missing-value policy 'zero' (expected error, interpolate or drop)");
  SeriesPrepareOptions fractions = Columns({"close"});
  fractions.valid_fraction = -0.1;
  EXPECT_EQ(PrepareSeries(path, Out("cols"), fractions).status().message(),
            "SeriesPrepareOptions::valid_fraction and SeriesPrepareOptions::test_fraction must be "
            ">= 0 with a sum below 1; got -0.1 and 0.05");
}

// Values in original units, all splits in order.
std::vector<std::vector<double>> Denormalized(const std::string& dir) {
  auto file = SeriesFile::Open(dir + "/series.f32");
  EXPECT_TRUE(file.ok()) << file.status();
  std::vector<std::vector<double>> rows;
  if (!file.ok()) return rows;
  for (int64_t r = 0; r < (*file)->rows(); ++r) {
    std::vector<double> row;
    for (int64_t c = 0; c < (*file)->columns(); ++c) {
      row.push_back((*file)->Denormalize(c, (*file)->at(r, c)));
    }
    rows.push_back(row);
  }
  return rows;
}

void ExpectNear(const std::vector<std::vector<double>>& got,
                const std::vector<std::vector<double>>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t r = 0; r < got.size(); ++r) {
    ASSERT_EQ(got[r].size(), want[r].size());
    for (size_t c = 0; c < got[r].size(); ++c) {
      EXPECT_NEAR(got[r][c], want[r][c], 1e-4 * (1 + std::abs(want[r][c]))) << r << "," << c;
    }
  }
}

TEST(CsvTest, InterpolatePolicyFillsGapsLinearly) {
  const std::string path = WriteFile("gaps.csv",
                                     "t,a,b\n"
                                     "0,,10\n"  // leading gap in a: nearest (3)
                                     "1,,NA\n"
                                     "2,3,\n"
                                     "3,n/a,40\n"  // b: 10 -> 40 over rows 0..3
                                     "4,n/a,50\n"
                                     "5,9,60\n"  // a: 3 -> 9 over rows 2..5
                                     "6,10,\n"   // trailing gap in b: nearest (60)
                                     "7,11,\n");
  auto r = PrepareSeries(path, Out("gaps"), Columns({"a", "b"}, MissingPolicy::kInterpolate));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->rows, 8);
  EXPECT_EQ(r->columns[0].missing, 4);
  EXPECT_EQ(r->columns[1].missing, 4);
  ExpectNear(Denormalized(Out("gaps")),
             {{3, 10}, {3, 20}, {3, 30}, {5, 40}, {7, 50}, {9, 60}, {10, 60}, {11, 60}});
  const std::string none = WriteFile("none.csv", "a,b\n1,\n2,x\n");
  auto bad = PrepareSeries(none, Out("gaps"), Columns({"a", "b"}, MissingPolicy::kInterpolate));
  EXPECT_EQ(bad.status().message(), none + ": column 'b' has no numeric value to interpolate from");
}

TEST(CsvTest, DropPolicyLeavesRowsOut) {
  const std::string path = WriteFile("drop.csv",
                                     "t,a,b,note\n"
                                     "0,1,10,x\n"
                                     "1,,20,x\n"
                                     "2,3,?,x\n"
                                     "3,4,40,\n");  // `note` is not selected
  auto r = PrepareSeries(path, Out("drop"), Columns({"a", "b"}, MissingPolicy::kDrop));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->rows, 2);
  EXPECT_EQ(r->dropped_rows, 2);
  ExpectNear(Denormalized(Out("drop")), {{1, 10}, {4, 40}});
  const std::string all = WriteFile("drop_all.csv", "a\nx\n\n");
  auto bad = PrepareSeries(all, Out("drop"), Columns({"a"}, MissingPolicy::kDrop));
  EXPECT_EQ(bad.status().message(), all + ": no data rows (every row was dropped)");
}

TEST(CsvTest, NormalisationStatsRoundTripAndSplitsByTime) {
  std::string text = "day,close,volume\n";
  std::vector<std::vector<double>> values;
  for (int i = 0; i < 100; ++i) {
    const double close = 100 + 0.5 * i + (i % 7);
    const double volume = 1e6 * (1 + i % 3);
    values.push_back({close, volume});
    absl::StrAppend(&text, "d", i, ",", close, ",\"", volume, "\"\r\n");
  }
  const std::string path = WriteFile("series.csv", text);
  SeriesPrepareOptions options = Columns({"close", "volume"});
  options.valid_fraction = 0.1;
  options.test_fraction = 0.2;
  auto r = PrepareSeries(path, Out("series"), options);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->split_rows[0], 70);
  EXPECT_EQ(r->split_rows[1], 10);
  EXPECT_EQ(r->split_rows[2], 20);
  // Mean and (population) std of the train rows only.
  for (int c = 0; c < 2; ++c) {
    double mean = 0, var = 0;
    for (int i = 0; i < 70; ++i) mean += values[i][c] / 70;
    for (int i = 0; i < 70; ++i) var += (values[i][c] - mean) * (values[i][c] - mean) / 70;
    EXPECT_NEAR(r->columns[c].mean, mean, 1e-9 * std::abs(mean));
    EXPECT_NEAR(r->columns[c].std, std::sqrt(var), 1e-9 * std::sqrt(var));
  }
  auto stats = ReadSeriesStats(Out("series"));
  ASSERT_TRUE(stats.ok()) << stats.status();
  ASSERT_EQ(stats->size(), 2u);
  auto file = SeriesFile::Open(Out("series") + "/series.f32");
  ASSERT_TRUE(file.ok()) << file.status();
  for (int c = 0; c < 2; ++c) {
    EXPECT_EQ((*stats)[c].name, r->columns[c].name);
    EXPECT_EQ((*stats)[c].mean, r->columns[c].mean);  // %.17g: exact
    EXPECT_EQ((*stats)[c].std, r->columns[c].std);
    EXPECT_EQ((*file)->mean()[c], r->columns[c].mean);
    EXPECT_EQ((*file)->stddev()[c], r->columns[c].std);
  }
  // Stored values are normalised: the train rows have mean 0 and std 1.
  double sum = 0, sq = 0;
  for (int i = 0; i < 70; ++i) {
    sum += (*file)->at(i, 0);
    sq += (*file)->at(i, 0) * (*file)->at(i, 0);
  }
  EXPECT_NEAR(sum / 70, 0, 1e-5);
  EXPECT_NEAR(sq / 70, 1, 1e-4);
  ExpectNear(Denormalized(Out("series")), values);
}

TEST(CsvTest, SeriesStreamsAreContiguousColumnsWithNextStepTargets) {
  std::string text = "x,y\n";
  for (int i = 0; i < 200; ++i) absl::StrAppend(&text, i, ",", -i, "\n");
  const std::string path = WriteFile("ramp.csv", text);
  ASSERT_TRUE(PrepareSeries(path, Out("ramp"), Columns({"x", "y"})).ok());
  const int64_t C = 4, T = 6, F = 2;
  auto s = SeriesStreams::Open(Out("ramp"), "train", C, T);
  ASSERT_TRUE(s.ok()) << s.status();
  const SeriesFile& file = (*s)->file();
  const int64_t L = (180 - 1) / C;
  EXPECT_EQ((*s)->stream_length(), L);
  EXPECT_EQ((*s)->features(), F);
  std::vector<float> in(T * C * F), out(T * C * F);
  for (int64_t k = 0; k < (*s)->chunks_per_epoch(); ++k) {
    EXPECT_EQ((*s)->Next(absl::MakeSpan(in), absl::MakeSpan(out)), k == 0);
    for (int64_t t = 0; t < T; ++t) {
      for (int64_t c = 0; c < C; ++c) {
        const int64_t row = c * L + k * T + t;
        EXPECT_NEAR(file.Denormalize(0, in[(t * C + c) * F]), row, 1e-3);
        EXPECT_NEAR(file.Denormalize(1, in[(t * C + c) * F + 1]), -row, 1e-3);
        EXPECT_NEAR(file.Denormalize(0, out[(t * C + c) * F]), row + 1, 1e-3);
      }
    }
  }
  auto valid = SeriesStreams::Open(Out("ramp"), "valid", 1, 4);
  ASSERT_TRUE(valid.ok()) << valid.status();
  std::vector<float> vin(4 * F), vout(4 * F);
  (*valid)->Next(absl::MakeSpan(vin), absl::MakeSpan(vout));
  EXPECT_NEAR(file.Denormalize(0, vin[0]), 180, 1e-3);  // valid follows train in time
  auto too_many = SeriesStreams::Open(Out("ramp"), "test", 4, 6);
  EXPECT_THAT(too_many.status().message(), testing::HasSubstr("10 rows are too few"));
}

}  // namespace
}  // namespace rnnflow
