using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.ML.DynMoE.Cli;
using Microsoft.ML.DynMoE.Tests.Experiments;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using static Microsoft.ML.DynMoE.Tests.Cli.CliProcess;

namespace Microsoft.ML.DynMoE.Tests.Cli;

/// <summary><c>dynmoe classification</c> on a text file: column detection, the text candidates, and the saved text model scored in a new process.</summary>
[TestClass]
public sealed class TextCliTests
{
    private string _dir = "";
    private string _spam = "";

    [TestInitialize]
    public void CreateDirectory()
    {
        _dir = Path.Combine(Path.GetTempPath(), "dynmoe-cli-text-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
        // The header and the first 400 messages of the shipped subset (one record per line).
        _spam = Path.Combine(_dir, "spam.csv");
        File.WriteAllLines(_spam, File.ReadLines(ExperimentTestData.DataPath("spam_assassin")).Take(401));
    }

    [TestCleanup]
    public void DeleteDirectory()
    {
        if (Directory.Exists(_dir))
            Directory.Delete(_dir, recursive: true);
    }


    [TestMethod]
    public void SdcaOnFeaturizeTextLearnsTheLoneTextColumn()
    {
        string outDir = Path.Combine(_dir, "sdca");
        var (code, stdout, stderr) = Run("classification", "--dataset", _spam, "--label-col", "Label", "--folds", "2",
            "--families", "sdca", "--train-time", "600", "--output", outDir, "--seed", "1");
        Assert.AreEqual(0, code, stdout + stderr);
        StringAssert.Contains(stdout, "task binary");
        StringAssert.Contains(stdout, "text column 'Text'");
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "leaderboard.json")));
        var sdca = json.RootElement.EnumerateArray().Single();
        Assert.AreEqual("succeeded", sdca.GetProperty("status").GetString());
        // FeaturizeText + SDCA learns spam from 200 messages; it once ran mean-variance scaled and stayed at chance (AUC 0.5).
        Assert.AreEqual("AreaUnderRocCurve", sdca.GetProperty("metric").GetString());
        Assert.IsGreaterThan(0.9, sdca.GetProperty("mean").GetDouble());
    }

    [TestMethod]
    public void TheDynMoETextModelRunsAndScoresIdenticallyInANewProcess()
    {
        // 120 messages, one epoch: the plumbing of the text path, then the saved text model scored here and in a fresh
        // process that has never seen the trainer (no registration call).
        string small = Path.Combine(_dir, "small.csv");
        File.WriteAllLines(small, File.ReadLines(_spam).Take(121));
        string outDir = Path.Combine(_dir, "dyn");
        var run = Run("classification", "--dataset", small, "--label-col", "Label", "--folds", "2", "--epochs", "1",
            "--model-dimension", "16", "--families", "dynmoe", "--train-time", "600", "--output", outDir, "--seed", "1");
        Assert.AreEqual(0, run.Code, run.Out + run.Err);
        using (var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "leaderboard.json"))))
        {
            var dynMoE = json.RootElement.EnumerateArray().Single();
            Assert.AreEqual("dynmoe", dynMoE.GetProperty("family").GetString());
            Assert.AreEqual("succeeded", dynMoE.GetProperty("status").GetString());
            Assert.IsGreaterThanOrEqualTo(1.0, dynMoE.GetProperty("activatedExpertsPerToken").GetDouble(), "eval routing activates at least one expert per token");
        }

        string model = Path.Combine(outDir, "best-model.zip");
        string here = Path.Combine(_dir, "here.csv");
        var predictHere = Run("predict", "--model", model, "--dataset", small, "--output", here);
        Assert.AreEqual(0, predictHere.Code, predictHere.Out + predictHere.Err);

        string there = Path.Combine(_dir, "there.csv");
        var child = RunChild(AppContext.BaseDirectory, "predict", "--model", model, "--dataset", small, "--output", there);
        Assert.AreEqual(0, child.Code, child.Output);
        var lines = File.ReadAllLines(here);
        Assert.HasCount(121, lines, "a header and one prediction per message");
        CollectionAssert.AreEqual(lines, File.ReadAllLines(there));
    }

    [TestMethod]
    public void TextColumnErrorsNameTheColumnAndTheFix()
    {
        var missing = Run("classification", "--dataset", _spam, "--label-col", "Label", "--text-col", "Body");
        Assert.AreEqual(2, missing.Code);
        StringAssert.Contains(missing.Err, "Text column 'Body' was not found. Available columns: Label, Text. Pass one of them to --text-col.");

        var label = Run("classification", "--dataset", _spam, "--label-col", "Label", "--text-col", "Label");
        Assert.AreEqual(2, label.Code);
        StringAssert.Contains(label.Err, "'Label' is the label column; pass the column holding the text to --text-col.");

        var regression = Run("regression", "--dataset", _spam, "--label-col", "Label");
        Assert.AreEqual(2, regression.Code);
        StringAssert.Contains(regression.Err, "Column 'Text' is free text; DynMoE's text trainer classifies.");
    }
}
