using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.ML.Data;
using Microsoft.ML.DynMoE.Tests.Experiments;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using static Microsoft.ML.DynMoE.Tests.Cli.CliProcess;

namespace Microsoft.ML.DynMoE.Tests.Cli;

/// <summary><c>dynmoe classification --text-encoder minilm</c>: the text candidates fine-tune the pretrained encoder, and the option's errors.</summary>
[TestClass]
public sealed class PretrainedCliTests
{
    private string _dir = "";

    [TestInitialize]
    public void Setup()
    {
        _dir = Path.Combine(Path.GetTempPath(), "dynmoe-cli-pretrained-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [TestCleanup]
    public void Cleanup()
    {
        if (Directory.Exists(_dir))
            Directory.Delete(_dir, recursive: true);
    }

    [TestMethod]
    public void ClassificationFineTunesMiniLMWithTextEncoderMiniLM()
    {
        string small = Path.Combine(_dir, "small.csv");
        File.WriteAllLines(small, File.ReadLines(ExperimentTestData.DataPath("spam_assassin")).Take(41));
        string outDir = Path.Combine(_dir, "out");
        var run = Run("classification", "--dataset", small, "--label-col", "Label", "--text-encoder", "minilm", "--folds", "2", "--epochs", "1",
            "--families", "dynmoe", "--train-time", "600", "--output", outDir, "--seed", "1");
        Assert.AreEqual(0, run.Code, run.Out + run.Err);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "leaderboard.json")));
        var dynMoE = json.RootElement.EnumerateArray().Single();
        Assert.AreEqual("succeeded", dynMoE.GetProperty("status").GetString());

        var model = new MLContext(seed: 1).Model.Load(Path.Combine(outDir, "best-model.zip"), out _);
        var parameters = model is TransformerChain<ITransformer> chain
            ? chain.OfType<DynMoEEncoderTransformer>().Single().Model
            : ((DynMoEEncoderTransformer)model).Model;
        Assert.AreEqual(6, parameters.NumberOfLayers, "the best model is the fine-tuned MiniLM");
    }

    [TestMethod]
    public void TextEncoderErrorsNameTheFix()
    {
        string small = Path.Combine(_dir, "small.csv");
        File.WriteAllLines(small, File.ReadLines(ExperimentTestData.DataPath("spam_assassin")).Take(21));
        var unknown = Run("classification", "--dataset", small, "--label-col", "Label", "--text-encoder", "bert", "--output", Path.Combine(_dir, "a"));
        Assert.AreEqual(2, unknown.Code);
        StringAssert.Contains(unknown.Err, "--text-encoder 'bert' is not known. Pass 'scratch' or 'minilm'.");

        string tabular = Path.Combine(_dir, "tabular.csv");
        File.WriteAllLines(tabular, new[] { "Label,X" }.Concat(Enumerable.Range(0, 20).Select(i => $"{i % 2},{i}")));
        var noText = Run("classification", "--dataset", tabular, "--label-col", "Label", "--text-encoder", "minilm", "--output", Path.Combine(_dir, "b"));
        Assert.AreEqual(2, noText.Code);
        StringAssert.Contains(noText.Err, "--text-encoder applies to a text column; pass --text-col (or a file whose only feature is free text).");
    }
}
