using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.ML.DynMoE.Cli;
using Microsoft.ML.DynMoE.Tests.Experiments;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using static Microsoft.ML.DynMoE.Tests.Cli.CliProcess;

namespace Microsoft.ML.DynMoE.Tests.Cli;

[TestClass]
public sealed class BenchmarkCommandTests
{
    private string _dir = "";

    [TestInitialize]
    public void CreateDirectory()
    {
        _dir = Path.Combine(Path.GetTempPath(), "dynmoe-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [TestCleanup]
    public void DeleteDirectory()
    {
        if (Directory.Exists(_dir))
            Directory.Delete(_dir, recursive: true);
    }


    /// <summary>A folder of two tiny data sets (a binary one cut from breast cancer, iris): the contract files and their fields.</summary>
    [TestMethod]
    public void BenchmarkWritesTheContractFiles()
    {
        string suite = Path.Combine(_dir, "suite");
        Directory.CreateDirectory(Path.Combine(suite, "iris"));
        File.Copy(ExperimentTestData.DataPath("iris"), Path.Combine(suite, "iris", "data.csv"));
        Directory.CreateDirectory(Path.Combine(suite, "cancer"));
        var cancer = File.ReadAllLines(ExperimentTestData.DataPath("breast_cancer"));
        File.WriteAllLines(Path.Combine(suite, "cancer", "data.csv"), cancer.Take(121));
        string outDir = Path.Combine(_dir, "out");

        var (code, stdout, stderr) = Run("benchmark", suite, "--folds", "2", "--repeats", "1", "--epochs", "1", "--model-dimension", "8",
            "--candidates", "dynmoe,topk,tuned,dense,lightgbm", "--output", outDir, "--seed", "2");
        Assert.AreEqual(0, code, stdout + stderr);
        StringAssert.Contains(stdout, "  iris / DynMoE: 2 of 2 splits done, ");
        foreach (var f in new[] { "benchmark.json", "summary.json", "report.md", "average-ranks.png", "quality-vs-activated-experts.png", "differences-per-dataset.png" })
            Assert.IsTrue(File.Exists(Path.Combine(outDir, f)), f + " missing; output:\n" + stdout);

        using var rowsDoc = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "benchmark.json")));
        var rows = rowsDoc.RootElement.EnumerateArray().ToArray();
        foreach (var row in rows)
            foreach (var field in new[] { "dataset", "task", "name", "family", "metric", "mean", "std", "folds", "activatedExpertsPerToken", "trainSeconds", "status" })
                Assert.IsTrue(row.TryGetProperty(field, out _), $"benchmark.json row lacks '{field}'");
        Assert.IsTrue(rows.All(r => r.GetProperty("status").GetString() == "succeeded"), stdout);
        foreach (var ds in new[] { "iris", "cancer" })
        {
            var mine = rows.Where(r => r.GetProperty("dataset").GetString() == ds).ToArray();
            Assert.AreEqual("dynmoe", mine.Single(r => r.GetProperty("name").GetString() == "DynMoE").GetProperty("family").GetString());
            Assert.AreEqual(9, mine.Count(r => r.GetProperty("family").GetString() == "topk"));
            foreach (var name in new[] { "TopKGridMean", "TopKTuned", "Dense", "LightGbm" })
                Assert.AreEqual(1, mine.Count(r => r.GetProperty("name").GetString() == name), name);
            Assert.IsTrue(mine.All(r => r.GetProperty("folds").GetArrayLength() == 2));
        }
        Assert.AreEqual("binary", rows.First(r => r.GetProperty("dataset").GetString() == "cancer").GetProperty("task").GetString());
        Assert.AreEqual("AreaUnderRocCurve", rows.First(r => r.GetProperty("dataset").GetString() == "cancer").GetProperty("metric").GetString());
        Assert.AreEqual(2.0 + 1.0 / 3, rows.First(r => r.GetProperty("name").GetString() == "TopKGridMean").GetProperty("activatedExpertsPerToken").GetDouble(), 1e-9);

        using var summaryDoc = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "summary.json")));
        var summary = summaryDoc.RootElement;
        var ranks = summary.GetProperty("averageRanks");
        foreach (var name in new[] { "DynMoE", "TopKGridMean", "TopKTuned", "Dense", "LightGbm" })
        {
            Assert.IsTrue(ranks.TryGetProperty(name, out var rank), name);
            Assert.IsInRange(1.0, 5.0, rank.GetDouble(), name);
        }
        Assert.AreEqual(15.0, ranks.EnumerateObject().Sum(p => p.Value.GetDouble()), 1e-9, "average ranks of 5 candidates sum to 15");
        var comparisons = summary.GetProperty("comparisons").EnumerateArray().ToArray();
        foreach (var name in new[] { "TopKGridMean", "TopKTuned", "Dense", "LightGbm" })
        {
            var c = comparisons.Single(x => x.GetProperty("baseline").GetString() == name);
            Assert.AreEqual(2, c.GetProperty("wins").GetInt32() + c.GetProperty("ties").GetInt32() + c.GetProperty("losses").GetInt32());
            Assert.IsGreaterThan(0.0, c.GetProperty("pValue").GetDouble());
            Assert.IsLessThanOrEqualTo(1.0, c.GetProperty("pValue").GetDouble());
        }

        // Re-summarizing the run without training, with DynMoE renamed, keeps every row and drops the DynMoE comparisons.
        string merged = Path.Combine(_dir, "merged");
        var again = Run("benchmark", outDir, "--from-results", "--folds", "2", "--repeats", "1", "--rename", "DynMoE=DynMoE[old]", "--output", merged);
        Assert.AreEqual(0, again.Code, again.Out + again.Err);
        using var mergedRows = JsonDocument.Parse(File.ReadAllText(Path.Combine(merged, "benchmark.json")));
        Assert.AreEqual(rows.Length, mergedRows.RootElement.GetArrayLength());
        Assert.AreEqual(2, mergedRows.RootElement.EnumerateArray().Count(r => r.GetProperty("name").GetString() == "DynMoE[old]"));
        using var mergedSummary = JsonDocument.Parse(File.ReadAllText(Path.Combine(merged, "summary.json")));
        Assert.AreEqual(0, mergedSummary.RootElement.GetProperty("comparisons").GetArrayLength());

        // Merged with the default --folds 5 --repeats 3, the rows' two fold values would be summarised with the wrong
        // correction for overlapping training folds: a usage error instead.
        var wrongFolds = Run("benchmark", outDir, "--from-results", "--output", Path.Combine(_dir, "wrong"));
        Assert.AreEqual(2, wrongFolds.Code, wrongFolds.Out + wrongFolds.Err);
        StringAssert.Contains(wrongFolds.Err, "has 2 fold values, but --folds 5 × --repeats 3 is 15. Pass the --folds and --repeats of the runs being merged");
    }

    [TestMethod]
    public void GridFlagsChooseTheTopKGrid()
    {
        string outDir = Path.Combine(_dir, "grid");
        var (code, stdout, stderr) = Run("benchmark", ExperimentTestData.DataPath("iris"), "--folds", "2", "--repeats", "1", "--epochs", "1",
            "--model-dimension", "8", "--candidates", "topk", "--grid-k", "1,2", "--grid-experts", "4", "--output", outDir);
        Assert.AreEqual(0, code, stdout + stderr);

        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "benchmark.json")));
        var rows = doc.RootElement.EnumerateArray().ToArray();
        CollectionAssert.AreEquivalent(new[] { "TopK(k=1,experts=4)", "TopK(k=2,experts=4)" },
            rows.Where(r => r.GetProperty("family").GetString() == "topk").Select(r => r.GetProperty("name").GetString()).ToArray());
        Assert.AreEqual(1.5, rows.Single(r => r.GetProperty("name").GetString() == "TopKGridMean").GetProperty("activatedExpertsPerToken").GetDouble(), 1e-9);
    }

    /// <summary>--image-size reads every data set's features as pixels: its neural candidates are Vision Transformers with --image-epochs.</summary>
    [TestMethod]
    public void ImageSizeBenchmarksImageSets()
    {
        string digits = Path.Combine(_dir, "digits.csv");
        File.WriteAllLines(digits, File.ReadLines(ExperimentTestData.DataPath("digits")).Take(101));
        string outDir = Path.Combine(_dir, "images");
        var (code, stdout, stderr) = Run("benchmark", digits, "--image-size", "8x8", "--image-epochs", "1", "--folds", "2", "--repeats", "1",
            "--model-dimension", "8", "--candidates", "dynmoe,lightgbm", "--output", outDir);
        Assert.AreEqual(0, code, stdout + stderr);
        StringAssert.Contains(stdout, "Benchmark: 1 data set(s) (digits), 1×2-fold CV, 30 epochs (1 on 8x8 images), seed 0.");
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "benchmark.json")));
        var rows = doc.RootElement.EnumerateArray().ToArray();
        Assert.IsTrue(rows.All(r => r.GetProperty("status").GetString() == "succeeded" && r.GetProperty("task").GetString() == "multiclass"), stdout);
        Assert.IsTrue(rows.Single(r => r.GetProperty("name").GetString() == "DynMoE").GetProperty("activatedExpertsPerToken").GetDouble() > 0);
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "summary.json")));
        var protocol = summary.RootElement.GetProperty("protocol");
        Assert.AreEqual("8x8", protocol.GetProperty("imageSize").GetString());
        Assert.AreEqual("1", protocol.GetProperty("imageEpochs").GetString());
    }

    [TestMethod]
    public void UnknownCandidatesAndMissingInputsAreUsageErrors()
    {
        string iris = ExperimentTestData.DataPath("iris");
        var cases = new (string[] Args, string Error)[]
        {
            (new[] { iris, "--candidates", "dynmoe,xgboost" }, "Unknown --candidates value(s): xgboost"),
            (new[] { Path.Combine(_dir, "nowhere") }, "is neither a CSV file nor a folder"),
            (new[] { iris, "--variants", "bogus" }, "Unknown DynMoE variant 'bogus'"),
            (new[] { iris, "--text-epochs", "0" }, "--text-epochs must be at least 1; got 0."),
            (new[] { iris, "--text-encoder", "bert" }, "--text-encoder 'bert' is not known. Pass 'scratch' or 'minilm'."),
            (new[] { iris, "--maximum-sequence-length", "0" }, "--maximum-sequence-length must be at least 1; got 0."),
            (new[] { iris, "--grid-k", "1", "0" }, "--grid-k values must be at least 1."),
            (new[] { iris, "--grid-experts", "0" }, "--grid-experts values must be at least 1."),
            (new[] { iris, "--grid-k", "1,two" }, "--grid-k takes whole numbers; got 'two'."),
            (new[] { iris, "--grid-experts", "," }, "--grid-experts needs at least one whole number."),
            (new[] { iris, "--grid-k", "8", "--grid-experts", "4" }, "The top-k grid is empty: every --grid-k value exceeds every --grid-experts value (4)."),
            (new[] { iris, "--image-size", "3x3" }, $"--image-size 3x3 needs the file's feature columns to be a multiple of 9 pixel numbers; '{iris}' has 4 numeric and 0 other feature columns."),
            (new[] { iris, "--image-size", "2x2", "--task", "binary" }, "--image-size trains multiclass image classifiers; --task binary does not apply (a two-class image set is trained as multiclass)."),
            (new[] { iris, "--image-size", "2x2", "--image-epochs", "0" }, "--image-epochs must be at least 1; got 0."),
            (new[] { iris, "--image-size", "2x2", "--text-encoder", "minilm" }, "--text-encoder and --maximum-sequence-length describe text data sets; --image-size reads every data set as images. Pass one or the other."),
            (new[] { iris, "--image-size", "2by2" }, "--image-size '2by2' is not HxW or HxWxC with positive whole numbers, e.g. 28x28 or 32x32x3."),
        };
        foreach (var (args, error) in cases)
        {
            var (code, _, err) = Run(new[] { "benchmark" }.Concat(args).ToArray());
            Assert.AreEqual(2, code, string.Join(" ", args));
            StringAssert.Contains(err, error);
        }
    }
}
