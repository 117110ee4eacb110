using System;
using System.IO;
using System.Linq;
using Microsoft.ML.Data;
using Microsoft.ML.DynMoE.Cli;
using Microsoft.ML.DynMoE.Tests.Experiments;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using static Microsoft.ML.DynMoE.Tests.Cli.CliProcess;

namespace Microsoft.ML.DynMoE.Tests.Cli;

/// <summary>dynmoe export: a model trained by the CLI, featurization included, becomes an ONNX file that ONNX Runtime scores like ML.NET.</summary>
[TestClass]
public sealed class ExportCommandTests
{
    private string _dir = "";

    [TestInitialize]
    public void CreateDirectory()
    {
        _dir = Path.Combine(Path.GetTempPath(), "dynmoe-export-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [TestCleanup]
    public void DeleteDirectory()
    {
        if (Directory.Exists(_dir))
            Directory.Delete(_dir, recursive: true);
    }


    [TestMethod]
    public void ExportedCliModelScoresTheRawColumnsLikeMLNet()
    {
        string iris = ExperimentTestData.DataPath("iris");
        string model = Path.Combine(_dir, "iris.zip"), onnx = Path.Combine(_dir, "out", "iris.onnx");
        var train = Run("train", "--dataset", iris, "--label-col", "Label", "--task", "multiclass", "--epochs", "2", "--model-dimension", "8", "--model", model);
        Assert.AreEqual(0, train.Code, train.Out + train.Err);

        var export = Run("export", "--model", model, "--output", onnx);
        Assert.AreEqual(0, export.Code, export.Out + export.Err);
        // The whole saved pipeline: the CSV columns in, ML.NET's scorer columns out.
        StringAssert.Contains(export.Out, "inputs:  'Label' String, 'sepal_length_cm' Single");
        StringAssert.Contains(export.Out, "outputs: 'Score.output' Vector<Single, 3>, 'PredictedLabel.output'");

        // ML.NET's scores from the saved pipeline on the raw CSV, and ONNX Runtime's on the same columns.
        var ml = new MLContext(seed: 1);
        var loaded = ml.Model.LoadWithDataLoader(model, out var loader);
        var raw = loader.Load(iris);
        var expected = loaded.Transform(raw);
        var actual = ml.Transforms.ApplyOnnxModel(onnx).Fit(raw).Transform(raw);
        var scores = expected.GetColumn<VBuffer<float>>("Score").Select(v => v.DenseValues().ToArray()).ToArray();
        var onnxScores = actual.GetColumn<VBuffer<float>>("Score").Select(v => v.DenseValues().ToArray()).ToArray();
        Assert.HasCount(150, onnxScores);
        for (int i = 0; i < scores.Length; i++)
            for (int j = 0; j < 3; j++)
                Assert.AreEqual(scores[i][j], onnxScores[i][j], 1e-5f, $"row {i}, class {j}");
    }

    [TestMethod]
    public void ExportedCliImageModelScoresThePixelColumnsLikeMLNet()
    {
        // 300 digits as 64 pixel columns; the experiment's one DynMoE image candidate becomes best-model.zip.
        string csv = Path.Combine(_dir, "digits.csv"), output = Path.Combine(_dir, "experiment"), onnx = Path.Combine(_dir, "digits.onnx");
        File.WriteAllLines(csv, File.ReadLines(ExperimentTestData.DataPath("digits")).Take(301));
        var experiment = Run("classification", "--dataset", csv, "--label-col", "Label", "--has-header", "--image-size", "8x8", "--families", "dynmoe",
            "--max-models", "1", "--epochs", "1", "--cv-folds", "2", "--model-dimension", "16", "--output", output);
        Assert.AreEqual(0, experiment.Code, experiment.Out + experiment.Err);
        string model = Path.Combine(output, "best-model.zip");

        var export = Run("export", "--model", model, "--output", onnx);
        Assert.AreEqual(0, export.Code, export.Out + export.Err);
        StringAssert.Contains(export.Out, "inputs:  'Label' String, 'pixel_0_0' Single");
        StringAssert.Contains(export.Out, "(65 columns)");
        StringAssert.Contains(export.Out, "outputs: 'Score.output' Vector<Single, 10>, 'PredictedLabel.output' String");

        var ml = new MLContext(seed: 1);
        var loaded = ml.Model.LoadWithDataLoader(model, out var loader);
        var raw = loader.Load(csv);
        var scores = loaded.Transform(raw).GetColumn<VBuffer<float>>("Score").Select(v => v.DenseValues().ToArray()).ToArray();
        var onnxScores = ml.Transforms.ApplyOnnxModel(onnx).Fit(raw).Transform(raw).GetColumn<VBuffer<float>>("Score").Select(v => v.DenseValues().ToArray()).ToArray();
        Assert.HasCount(300, onnxScores);
        for (int i = 0; i < scores.Length; i++)
            for (int j = 0; j < 10; j++)
                Assert.AreEqual(scores[i][j], onnxScores[i][j], 1e-5f, $"row {i}, class {j}");
    }

    [TestMethod]
    public void MissingModelIsAUsageErrorNamingTheFile()
    {
        var export = Run("export", "--model", Path.Combine(_dir, "none.zip"), "--output", Path.Combine(_dir, "x.onnx"));
        Assert.AreEqual(DynMoECli.ExitUsage, export.Code);
        StringAssert.Contains(export.Err, "none.zip' was not found");
    }
}
