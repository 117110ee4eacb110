using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.ML.DynMoE.Cli;
using Microsoft.ML.DynMoE.Tests.Experiments;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SkiaSharp;
using static Microsoft.ML.DynMoE.Tests.Cli.CliProcess;

namespace Microsoft.ML.DynMoE.Tests.Cli;

[TestClass]
public sealed class DynMoECliTests
{
    private string _dir = "";

    [TestInitialize]
    public void CreateDirectory()
    {
        _dir = Path.Combine(Path.GetTempPath(), "dynmoe-cli-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [TestCleanup]
    public void DeleteDirectory()
    {
        if (Directory.Exists(_dir))
            Directory.Delete(_dir, recursive: true);
    }


    private static string Iris => ExperimentTestData.DataPath("iris");

    [TestMethod]
    public void ClassificationWritesLeaderboardChartsAndBestModel()
    {
        string outDir = Path.Combine(_dir, "out");
        var (code, stdout, stderr) = Run("classification", "--dataset", Iris, "--label-col", "Label", "--folds", "2", "--epochs", "2",
            "--model-dimension", "16", "--families", "dynmoe,topk,dense,lbfgs", "--max-models", "4", "--train-time", "120", "--output", outDir, "--seed", "3");
        Assert.AreEqual(0, code, stdout + stderr);
        StringAssert.Contains(stdout, "task multiclass");
        foreach (var f in new[] { "leaderboard.json", "leaderboard.csv", "leaderboard.txt", "best-model.zip", "metric-vs-activated-experts.png", "dynmoe-expert-count.png", "training-time.png" })
            Assert.IsTrue(File.Exists(Path.Combine(outDir, f)), f + " missing; output:\n" + stdout);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "leaderboard.json")));
        var rows = json.RootElement.EnumerateArray().ToArray();
        Assert.AreEqual(4, rows.Length);
        var first = rows[0];
        foreach (var name in new[] { "name", "family", "k", "experts", "finalExperts", "metric", "mean", "std", "activatedExpertsPerToken", "trainSeconds", "status" })
            Assert.IsTrue(first.TryGetProperty(name, out _), $"leaderboard.json lacks '{name}'");
        Assert.AreEqual("MacroAccuracy", first.GetProperty("metric").GetString());
        var dyn = rows.Single(r => r.GetProperty("family").GetString() == "dynmoe");
        Assert.AreEqual("succeeded", dyn.GetProperty("status").GetString());
        Assert.AreEqual(4, dyn.GetProperty("experts").GetInt32());
        Assert.IsGreaterThan(0.0, dyn.GetProperty("activatedExpertsPerToken").GetDouble());
        Assert.IsTrue(rows.All(r => r.GetProperty("mean").GetDouble() > 0), "2 epochs only check the plumbing, not accuracy");
    }

    // An 8×8 image whose pixel (r, c) has red 10r + c, green 100 + c, blue 200 - r: every value tells where it came from.
    private static void WritePng(string path, Func<int, int, SKColor> color)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(8, 8, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        for (int r = 0; r < 8; r++)
            for (int c = 0; c < 8; c++)
                bitmap.SetPixel(c, r, color(r, c));
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, data.ToArray());
    }

    [TestMethod]
    public void ImageFolderPixelsAreExtractPixelsPlanarLayout()
    {
        string png = Path.Combine(_dir, "a.png");
        WritePng(png, (r, c) => new SKColor((byte)(10 * r + c), (byte)(100 + c), (byte)(200 - r), 255));
        var rgb = ImageFolderData.ReadPixels(png, 8, 8, 3);
        var argb = ImageFolderData.ReadPixels(png, 8, 8, 4);
        var grey = ImageFolderData.ReadPixels(png, 8, 8, 1);
        for (int r = 0; r < 8; r++)
        {
            for (int c = 0; c < 8; c++)
            {
                int at = r * 8 + c;
                Assert.AreEqual((float)(10 * r + c), rgb[at]);
                Assert.AreEqual((float)(100 + c), rgb[64 + at]);
                Assert.AreEqual((float)(200 - r), rgb[128 + at]);
                Assert.AreEqual((float)(255), argb[at]);
                Assert.AreEqual((float)(10 * r + c), argb[64 + at]);
                Assert.AreEqual((float)(200 - r), argb[192 + at]);
                Assert.AreEqual(0.3f * (10 * r + c) + 0.59f * (100 + c) + 0.11f * (200 - r), grey[at], 1e-3f);
            }
        }

        // Halving a 2×2-block image by iso-crop resizing keeps each block's colour.
        string blocks = Path.Combine(_dir, "blocks.png");
        WritePng(blocks, (r, c) => new SKColor((byte)(r / 2 * 40 + c / 2 * 10), 0, 0, 255));
        var small = ImageFolderData.ReadPixels(blocks, 4, 4, 3);
        for (int r = 0; r < 4; r++)
            for (int c = 0; c < 4; c++)
                Assert.AreEqual((float)(r * 40 + c * 10), small[r * 4 + c], 1f);
    }

    [TestMethod]
    public void ClassificationTrainsFromAnImageFolderAndFromAPixelCsv()
    {
        // Two classes anyone can tell apart: a bright horizontal bar or a bright vertical bar at a random place.
        var random = new Random(5);
        string folder = Path.Combine(_dir, "images");
        var csv = new System.Text.StringBuilder("Label," + string.Join(",", Enumerable.Range(0, 64).Select(i => "p" + i)) + "\n");
        foreach (var label in new[] { "horizontal", "vertical" })
        {
            Directory.CreateDirectory(Path.Combine(folder, label));
            for (int i = 0; i < 16; i++)
            {
                int line = random.Next(8);
                Func<int, int, byte> value = (r, c) => (byte)((label == "horizontal" ? r : c) == line ? 250 : random.Next(30));
                var grey = new byte[8, 8];
                for (int r = 0; r < 8; r++)
                    for (int c = 0; c < 8; c++)
                        grey[r, c] = value(r, c);
                WritePng(Path.Combine(folder, label, $"{i:D2}.png"), (r, c) => new SKColor(grey[r, c], grey[r, c], grey[r, c], 255));
                csv.Append(label).Append(',').Append(string.Join(",", Enumerable.Range(0, 64).Select(p => grey[p / 8, p % 8]))).Append('\n');
            }
        }

        string csvPath = Path.Combine(_dir, "pixels.csv");
        File.WriteAllText(csvPath, csv.ToString());
        // The folder run compares DynMoE with SDCA; the CSV run keeps only DynMoE, so its best model is an image model to inspect.
        foreach (var (input, families) in new[] { (new[] { "--image-folder", folder }, "dynmoe,sdca"), (new[] { "--dataset", csvPath, "--label-col", "Label" }, "dynmoe") })
        {
            string outDir = Path.Combine(_dir, "out-" + input[0].TrimStart('-'));
            int count = families.Split(',').Length;
            var args = new[] { "classification" }.Concat(input).Concat(new[] { "--image-size", "8x8x1", "--folds", "2", "--epochs", "2",
                "--model-dimension", "16", "--families", families, "--max-models", count.ToString(), "--train-time", "120", "--output", outDir, "--seed", "3" }).ToArray();
            var (code, stdout, stderr) = Run(args);
            Assert.AreEqual(0, code, stdout + stderr);
            StringAssert.Contains(stdout, "task multiclass");
            using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "leaderboard.json")));
            var rows = json.RootElement.EnumerateArray().ToArray();
            Assert.AreEqual(count, rows.Length, stdout);
            Assert.IsTrue(rows.All(r => r.GetProperty("status").GetString() == "succeeded"), stdout);
            var dyn = rows.Single(r => r.GetProperty("family").GetString() == "dynmoe");
            Assert.IsGreaterThan(0.0, dyn.GetProperty("activatedExpertsPerToken").GetDouble());
            Assert.IsTrue(File.Exists(Path.Combine(outDir, "best-model.zip")));
        }

        string heatmaps = Path.Combine(_dir, "heatmaps");
        var inspect = Run("inspect", "--model", Path.Combine(_dir, "out-dataset", "best-model.zip"), "--dataset", csvPath, "--label-col", "Label", "--heatmaps", heatmaps);
        Assert.AreEqual(0, inspect.Code, inspect.Out + inspect.Err);
        StringAssert.Contains(inspect.Out, "DynMoE encoder");
        StringAssert.Contains(inspect.Out, "horizontal");
        StringAssert.Contains(inspect.Out, "routing heatmaps (4×4 patches");
        var files = Directory.GetFiles(heatmaps).Select(Path.GetFileName).OrderBy(f => f, StringComparer.Ordinal).ToArray();
        CollectionAssert.AreEqual(new[] { "routing-layer0-class-horizontal.png", "routing-layer0-class-vertical.png", "routing-layer0.png" }, files);
    }

    [TestMethod]
    public void TrainPredictAndInspectRoundTrip()
    {
        string model = Path.Combine(_dir, "iris-model.zip");
        var train = Run("train", "--dataset", Iris, "--label-col", "Label", "--task", "multiclass", "--gating", "top-any", "--initial-experts", "4",
            "--epochs", "3", "--model-dimension", "16", "--model", model);
        Assert.AreEqual(0, train.Code, train.Out + train.Err);
        Assert.IsTrue(File.Exists(model));
        StringAssert.Contains(train.Out, "epoch 3/3");

        string predictions = Path.Combine(_dir, "pred.csv");
        var predict = Run("predict", "--model", model, "--dataset", Iris, "--output", predictions);
        Assert.AreEqual(0, predict.Code, predict.Out + predict.Err);
        var lines = File.ReadAllLines(predictions);
        Assert.AreEqual(151, lines.Length);
        StringAssert.StartsWith(lines[0], "PredictedLabel,Score_");
        var truth = File.ReadAllLines(Iris).Skip(1).Select(l => l.Split(',')[0]).ToArray();
        double accuracy = lines.Skip(1).Select(l => l.Split(',')[0]).Zip(truth).Count(p => p.First == p.Second) / 150.0;
        Assert.IsGreaterThan(0.7, accuracy, "training accuracy");

        // The label column may be left out of the file to score.
        string unlabeled = Path.Combine(_dir, "unlabeled.csv");
        File.WriteAllLines(unlabeled, File.ReadAllLines(Iris).Select(l => string.Join(",", l.Split(',').Skip(1))));
        var predict2 = Run("predict", "--model", model, "--dataset", unlabeled, "--output", Path.Combine(_dir, "pred2.csv"));
        Assert.AreEqual(0, predict2.Code, predict2.Out + predict2.Err);
        CollectionAssert.AreEqual(lines, File.ReadAllLines(Path.Combine(_dir, "pred2.csv")));

        var inspect = Run("inspect", "--model", model, "--dataset", Iris, "--label-col", "Label");
        Assert.AreEqual(0, inspect.Code, inspect.Out + inspect.Err);
        StringAssert.Contains(inspect.Out, "layer 0");
        StringAssert.Contains(inspect.Out, "layer 1");
        StringAssert.Contains(inspect.Out, "TopAny");
        StringAssert.Contains(inspect.Out, "Per class");
        StringAssert.Contains(inspect.Out, "setosa");
    }

    [TestMethod]
    public void ModelSavedHereScoresIdenticallyInANewProcessWithoutRegistration()
    {
        string model = Path.Combine(_dir, "iris-model.zip");
        var train = Run("train", "--dataset", Iris, "--label-col", "Label", "--task", "multiclass", "--epochs", "3", "--model-dimension", "16", "--model", model);
        Assert.AreEqual(0, train.Code, train.Out + train.Err);
        string here = Path.Combine(_dir, "here.csv");
        var predictHere = Run("predict", "--model", model, "--dataset", Iris, "--output", here);
        Assert.AreEqual(0, predictHere.Code, predictHere.Out + predictHere.Err);

        // A fresh process: the CLI assembly next to this test assembly, run with the test's runtime config and deps.
        string there = Path.Combine(_dir, "there.csv");
        var child = RunChild(AppContext.BaseDirectory, "predict", "--model", model, "--dataset", Iris, "--output", there);
        Assert.AreEqual(0, child.Code, child.Output);
        CollectionAssert.AreEqual(File.ReadAllLines(here), File.ReadAllLines(there));
    }

    [TestMethod]
    public void SavedModelScoresInAProcessWithoutTheNativeLibrary()
    {
        string model = Path.Combine(_dir, "iris-model.zip");
        var train = Run("train", "--dataset", Iris, "--label-col", "Label", "--task", "multiclass", "--epochs", "2", "--model-dimension", "8", "--gating", "top-k",
            "--top-k", "2", "--model", model);
        Assert.AreEqual(0, train.Code, train.Out + train.Err);
        string here = Path.Combine(_dir, "here.csv");
        var predictHere = Run("predict", "--model", model, "--dataset", Iris, "--output", here);
        Assert.AreEqual(0, predictHere.Code, predictHere.Out + predictHere.Err);

        // A copy of this test's output in which every native library (libtorch, LibTorchSharp, …) is an empty file:
        // the deps file still lists them, but none can be loaded.
        string isolated = Path.Combine(_dir, "no-native");
        string source = AppContext.BaseDirectory;
        foreach (string file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(source, file);
            string target = Path.Combine(isolated, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            string[] parts = relative.Split(Path.DirectorySeparatorChar);
            if (parts.Length > 2 && parts[0] == "runtimes" && parts[2] == "native")
                File.WriteAllBytes(target, Array.Empty<byte>());
            else
                File.Copy(file, target);
        }

        var control = RunChild(isolated, "train", "--dataset", Iris, "--label-col", "Label", "--task", "multiclass", "--epochs", "1",
            "--model-dimension", "8", "--model", Path.Combine(_dir, "never.zip"));
        Assert.AreNotEqual(0, control.Code, "training needs libtorch, so it must fail in the isolated copy:\n" + control.Output);
        StringAssert.Contains(control.Output, "LoadNativeBackend", "the control fails because TorchSharp finds no native library");

        string there = Path.Combine(_dir, "there.csv");
        var predictThere = RunChild(isolated, "predict", "--model", model, "--dataset", Iris, "--output", there);
        Assert.AreEqual(0, predictThere.Code, predictThere.Output);
        CollectionAssert.AreEqual(File.ReadAllLines(here), File.ReadAllLines(there));
    }

    [TestMethod]
    public void RegressionTrainAndBinaryDetectionWork()
    {
        string model = Path.Combine(_dir, "concrete.zip");
        // The old flag names (--k, --experts, --cv-folds) stay accepted beside --top-k, --initial-experts, --folds.
        var train = Run("train", "--dataset", ExperimentTestData.DataPath("concrete"), "--label-col", "Label", "--task", "regression", "--gating", "top-k",
            "--k", "1", "--experts", "2", "--epochs", "1", "--model-dimension", "8", "--model", model);
        Assert.AreEqual(0, train.Code, train.Out + train.Err);
        var pred = Run("predict", "--model", model, "--dataset", ExperimentTestData.DataPath("concrete"), "--output", Path.Combine(_dir, "c.csv"));
        Assert.AreEqual(0, pred.Code, pred.Err);
        StringAssert.StartsWith(File.ReadLines(Path.Combine(_dir, "c.csv")).First(), "Score");

        var binary = Run("classification", "--dataset", ExperimentTestData.DataPath("breast_cancer"), "--label-col", "Label", "--cv-folds", "2",
            "--families", "lbfgs", "--output", Path.Combine(_dir, "bc"));
        Assert.AreEqual(0, binary.Code, binary.Out + binary.Err);
        StringAssert.Contains(binary.Out, "task binary");
        StringAssert.Contains(binary.Out, "AreaUnderRocCurve");
    }

    [TestMethod]
    public void MissingFileExitsWith2AndNamesTheFile()
    {
        var (code, _, err) = Run("classification", "--dataset", Path.Combine(_dir, "nope.csv"), "--label-col", "Label");
        Assert.AreEqual(2, code);
        StringAssert.Contains(err, "nope.csv");
        StringAssert.Contains(err, "not found");
        StringAssert.Contains(err, "--dataset");
    }

    [TestMethod]
    public void UnknownLabelColumnExitsWith2AndListsTheColumns()
    {
        var (code, _, err) = Run("classification", "--dataset", Iris, "--label-col", "Species");
        Assert.AreEqual(2, code);
        StringAssert.Contains(err, "'Species'");
        StringAssert.Contains(err, "sepal_length_cm");
        StringAssert.Contains(err, "--label-col");
    }

    [TestMethod]
    public void EmptyFileExitsWith2()
    {
        string empty = Path.Combine(_dir, "empty.csv");
        File.WriteAllText(empty, "");
        var (code, _, err) = Run("regression", "--dataset", empty, "--label-col", "Label");
        Assert.AreEqual(2, code);
        StringAssert.Contains(err, "empty.csv");
        StringAssert.Contains(err, "empty");

        File.WriteAllText(empty, "Label,x\n");
        (code, _, err) = Run("train", "--dataset", empty, "--label-col", "Label", "--task", "regression", "--model", Path.Combine(_dir, "m.zip"));
        Assert.AreEqual(2, code);
        StringAssert.Contains(err, "data row");
    }

    [TestMethod]
    public void NonNumericRegressionLabelExitsWith2()
    {
        var (code, _, err) = Run("regression", "--dataset", Iris, "--label-col", "Label");
        Assert.AreEqual(2, code);
        StringAssert.Contains(err, "'Label'");
        StringAssert.Contains(err, "non-numeric");
        StringAssert.Contains(err, "dynmoe classification");
    }

    [TestMethod]
    public void BadArgumentsExitWith2()
    {
        Assert.AreEqual(2, Run("classification", "--label-col", "Label").Code, "missing --dataset");
        Assert.AreEqual(2, Run("train", "--dataset", Iris, "--label-col", "Label", "--task", "ranking", "--model", "m.zip").Code, "bad --task");
        Assert.AreEqual(2, Run("classification", "--dataset", Iris, "--label-col", "Label", "--families", "xgboost").Code);
        var (code, _, err) = Run("predict", "--model", Path.Combine(_dir, "missing.zip"), "--dataset", Iris, "--output", Path.Combine(_dir, "p.csv"));
        Assert.AreEqual(2, code);
        StringAssert.Contains(err, "missing.zip");
        Assert.AreEqual(2, Run("frobnicate").Code);
    }
}
