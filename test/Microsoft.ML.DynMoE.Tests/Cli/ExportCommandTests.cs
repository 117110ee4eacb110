using System;
using System.IO;
using System.Linq;
using Microsoft.ML.Data;
using Microsoft.ML.DynMoE.Cli;
using Microsoft.ML.DynMoE.Tests.Experiments;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using static Microsoft.ML.DynMoE.Tests.Cli.CliProcess;

namespace Microsoft.ML.DynMoE.Tests.Cli;

/// <summary>dynmoe export: a model trained by the CLI becomes an ONNX file that ONNX Runtime scores like ML.NET.</summary>
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
    public void ExportedCliModelScoresTheFeaturizedRowsLikeMLNet()
    {
        string iris = ExperimentTestData.DataPath("iris");
        string model = Path.Combine(_dir, "iris.zip"), onnx = Path.Combine(_dir, "out", "iris.onnx");
        var train = Run("train", "--dataset", iris, "--label-col", "Label", "--task", "multiclass", "--epochs", "2", "--model-dimension", "8", "--model", model);
        Assert.AreEqual(0, train.Code, train.Out + train.Err);

        var export = Run("export", "--model", model, "--output", onnx);
        Assert.AreEqual(0, export.Code, export.Out + export.Err);
        StringAssert.Contains(export.Out, "input  'Features': float [N, 4]");
        StringAssert.Contains(export.Out, "not in the ONNX file");

        // ML.NET's scores and the featurized vector the ONNX input expects, from the saved pipeline.
        var ml = new MLContext(seed: 1);
        var loaded = ml.Model.LoadWithDataLoader(model, out var loader);
        var scored = loaded.Transform(loader.Load(iris));
        var features = scored.GetColumn<VBuffer<float>>("Features").Select(v => v.DenseValues().ToArray()).ToArray();
        var scores = scored.GetColumn<VBuffer<float>>("Score").Select(v => v.DenseValues().ToArray()).ToArray();

        using var session = new InferenceSession(onnx, new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL });
        var input = new DenseTensor<float>(features.SelectMany(r => r).ToArray(), new[] { features.Length, 4 });
        using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor("Features", input) });
        var onnxScore = results.Single(r => r.Name == "Score").AsTensor<float>();
        for (int i = 0; i < scores.Length; i++)
            for (int j = 0; j < 3; j++)
                Assert.AreEqual(scores[i][j], onnxScore[i, j], 1e-5f, $"row {i}, class {j}");
    }

    [TestMethod]
    public void MissingModelIsAUsageErrorNamingTheFile()
    {
        var export = Run("export", "--model", Path.Combine(_dir, "none.zip"), "--output", Path.Combine(_dir, "x.onnx"));
        Assert.AreEqual(DynMoECli.ExitUsage, export.Code);
        StringAssert.Contains(export.Err, "none.zip' was not found");
    }
}
