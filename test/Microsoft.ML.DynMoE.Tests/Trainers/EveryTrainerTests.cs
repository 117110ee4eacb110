using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.DynMoE.Tests.Trainers;

/// <summary>
/// What every DynMoE trainer — tabular, text and image — must do alike, run once over all six: the same option
/// checks with the same messages, the same treatment of bad input, exact save/load round trips and seeded repeats.
/// </summary>
[TestClass]
public sealed class EveryTrainerTests
{
    public enum Kind
    {
        TabularBinary,
        TabularMulticlass,
        TabularRegression,
        TextBinary,
        TextMulticlass,
        Image,
    }

    private sealed class Row
    {
        public bool Flag { get; set; }
        public string Class { get; set; } = "";
        public float Target { get; set; }
        [VectorType(4)] public float[] Features { get; set; } = new float[4];
        public string Text { get; set; } = "";
        public float Weight { get; set; } = 1;
    }

    /// <summary>Every trainer kind, one test case each.</summary>
    public static IEnumerable<object[]> Kinds => Enum.GetValues<Kind>().Select(kind => new object[] { kind });

    private static readonly string[] Words = { "red", "green", "blue" };

    private static Row[] Rows(int count = 48) => Enumerable.Range(0, count).Select(i => new Row
    {
        Flag = i % 2 == 0,
        Class = Words[i % 3],
        Target = i % 3 + 0.1f * (i % 5),
        Features = new float[] { i % 2, i % 3, (i * 7 % 5) / 5f, 1 },
        Text = $"{Words[i % 3]} {(i % 2 == 0 ? "yes" : "no")} item {i % 4}",
    }).ToArray();

    private static bool HasNumericInput(Kind kind) => kind is not (Kind.TextBinary or Kind.TextMulticlass);

    /// <summary>The trainer of <paramref name="kind"/> on small settings, after <paramref name="configure"/>, with the label preparation it needs.</summary>
    private static IEstimator<ITransformer> Build(MLContext ml, Kind kind, Action<DynMoETrainerOptionsBase>? configure = null)
    {
        T Small<T>(T options) where T : DynMoETrainerOptionsBase
        {
            options.NumberOfEpochs = 2;
            options.ModelDimension = 8;
            options.ExpertHiddenDimension = 8;
            options.BatchSize = 16;
            options.Seed = 3;
            if (options is DynMoEEncoderOptionsBase encoder)
                encoder.NumberOfHeads = 2;
            if (options is DynMoETextOptionsBase text)
                text.MaximumSequenceLength = 8;
            configure?.Invoke(options);
            return options;
        }

        var toKey = ml.Transforms.Conversion.MapValueToKey("Class");
        return kind switch
        {
            Kind.TabularBinary => ml.BinaryClassification.Trainers.DynMoE(Small(new DynMoEBinaryTrainer.Options { LabelColumnName = "Flag" })),
            Kind.TabularMulticlass => toKey.Append(ml.MulticlassClassification.Trainers.DynMoE(Small(new DynMoEMulticlassTrainer.Options { LabelColumnName = "Class" }))),
            Kind.TabularRegression => ml.Regression.Trainers.DynMoE(Small(new DynMoERegressionTrainer.Options { LabelColumnName = "Target" })),
            Kind.TextBinary => ml.BinaryClassification.Trainers.DynMoETextClassification(Small(new DynMoEBinaryTextClassificationTrainer.Options { LabelColumnName = "Flag" })),
            Kind.TextMulticlass => toKey.Append(ml.MulticlassClassification.Trainers.DynMoETextClassification(Small(new DynMoEMulticlassTextClassificationTrainer.Options { LabelColumnName = "Class" }))),
            Kind.Image => toKey.Append(ml.MulticlassClassification.Trainers.DynMoEImageClassification(Small(new DynMoEImageClassificationTrainer.Options
            {
                LabelColumnName = "Class", ImageHeight = 2, ImageWidth = 2, PatchSize = 1,
            }))),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }

    private static float[] Scores(ITransformer model, IDataView data)
    {
        var scored = model.Transform(data);
        return scored.Schema["Score"].Type is VectorDataViewType
            ? scored.GetColumn<float[]>("Score").SelectMany(v => v).ToArray()
            : scored.GetColumn<float>("Score").ToArray();
    }

    private static List<string> CaptureLog(MLContext ml, string containing)
    {
        var log = new List<string>();
        ml.Log += (_, m) =>
        {
            if (m.Message.Contains(containing))
                lock (log) log.Add(m.Message);
        };
        return log;
    }

    [TestMethod]
    [DynamicData(nameof(Kinds))]
    public void InvalidOptionsAreRejectedAlike(Kind kind)
    {
        var cases = new (Action<DynMoETrainerOptionsBase> Break, string Name, string Message)[]
        {
            (o => o.InitialExperts = 0, "InitialExperts", "InitialExperts must be at least 1."),
            (o => o.MaximumExperts = 5000, "MaximumExperts", "MaximumExperts must be between InitialExperts (4) and 4096."),
            (o => { o.Gating = GatingKind.TopK; o.TopK = 5; }, "TopK", "TopK must be between 1 and InitialExperts (4) for top-k gating."),
            (o => o.LearningRate = float.NaN, "LearningRate", "LearningRate must be a positive finite number."),
            (o => o.WarmupFraction = 1, "WarmupFraction", "WarmupFraction must be in [0, 1)."),
            (o => o.GradientClipNorm = -1, "GradientClipNorm", "GradientClipNorm must be zero (off) or a positive finite number."),
            (o => o.EarlyStoppingPatience = -1, "EarlyStoppingPatience", "EarlyStoppingPatience must be zero (off) or positive."),
            (o => o.NumberOfThreads = 0, "NumberOfThreads", "NumberOfThreads must be at least 1."),
            (o => o.Gating = (GatingKind)7, "Gating", "Gating must be TopAny, TopK or Dense."),
            (o => o.Adaptation = null!, "Adaptation", "Adaptation must be set (use AdaptationSchedule.Off to disable adaptation)."),
            (o => o.Dropout = 1, "Dropout", "Dropout must be in [0, 1)."),
            (o => o.Dropout = -0.1f, "Dropout", "Dropout must be in [0, 1)."),
        };
        if (!HasNumericInput(kind) || kind == Kind.Image)
            cases = cases.Append((o => ((DynMoEEncoderOptionsBase)o).AttentionDropout = float.NaN, "AttentionDropout", "AttentionDropout must be in [0, 1).")).ToArray();
        var ml = new MLContext(seed: 1);
        foreach (var (breakIt, name, message) in cases)
        {
            var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Build(ml, kind, breakIt), name);
            Assert.AreEqual(name, error.ParamName);
            Assert.AreEqual(message, error.Message.Split(" (Parameter '")[0].Split(Environment.NewLine)[0], name);
        }
    }

    [TestMethod]
    [DynamicData(nameof(Kinds))]
    public void BadInputIsTreatedAlike(Kind kind)
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Rows());

        var missingLabel = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Build(ml, kind, o => o.LabelColumnName = "Nope").Fit(data));
        Assert.AreEqual("LabelColumnName", missingLabel.ParamName);
        StringAssert.StartsWith(missingLabel.Message, "Label column 'Nope' was not found in the ");

        var missingWeight = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Build(ml, kind, o => o.ExampleWeightColumnName = "NoWeight").Fit(data));
        StringAssert.StartsWith(missingWeight.Message, "Example weight column 'NoWeight' was not found in the ");
        var textWeight = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Build(ml, kind, o => o.ExampleWeightColumnName = "Text").Fit(data));
        StringAssert.StartsWith(textWeight.Message, "Example weight column 'Text' must be a Single scalar, but it is a scalar of String.");

        // Patience without any validation data trains every epoch and says so (patience is on by default).
        var log = new List<string>();
        var logged = new MLContext(seed: 1);
        logged.Log += (_, m) => { if (m.Message.Contains("nothing to stop on")) lock (log) log.Add(m.Message); };
        Build(logged, kind, o => { o.EarlyStoppingPatience = 2; o.ValidationFraction = 0; o.NumberOfEpochs = 1; }).Fit(logged.Data.LoadFromEnumerable(Rows()));
        StringAssert.EndsWith(log.Single(), "] DynMoE: no validation data (none given, ValidationFraction 0): EarlyStoppingPatience 2 has nothing to stop on; every epoch runs.");

        using (var cancelled = new CancellationTokenSource())
        {
            cancelled.Cancel();
            Assert.ThrowsExactly<OperationCanceledException>(() => Build(ml, kind, o => o.CancellationToken = cancelled.Token).Fit(data));
        }

        var rows = Rows();
        rows[4].Weight = float.NaN;
        rows[9].Weight = -1;
        var weighted = CaptureLog(ml, "DynMoE skipped");
        Build(ml, kind, o => o.ExampleWeightColumnName = "Weight").Fit(ml.Data.LoadFromEnumerable(rows));
        Assert.IsTrue(weighted.Any(m => m.EndsWith("DynMoE skipped 2 training rows with a missing, negative or infinite weight.", StringComparison.Ordinal)), string.Join("\n", weighted));

        if (!HasNumericInput(kind))
            return;
        rows = Rows();
        rows[5].Features[1] = float.NaN;
        var nonFinite = ml.Data.LoadFromEnumerable(rows);
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => Build(ml, kind).Fit(nonFinite));
        Assert.AreEqual("Column 'Features' holds NaN at row 5 (slot 1). Replace missing values first, e.g. mlContext.Transforms.ReplaceMissingValues(\"Features\"), " +
            "or set SkipRowsWithNonFiniteFeatures = true to skip such rows.", error.Message);
        // With rows held out for validation the message still names the row of the data passed to Fit.
        rows = Rows(DynMoETrainerOptionsBase.MinimumRowsForValidation + 50);
        rows[150].Features[2] = float.PositiveInfinity;
        error = Assert.ThrowsExactly<InvalidOperationException>(() => Build(ml, kind, o => o.ValidationFraction = 0.2f).Fit(ml.Data.LoadFromEnumerable(rows)));
        StringAssert.StartsWith(error.Message, "Column 'Features' holds Infinity at row 150 (slot 2).");
        var skipped = CaptureLog(ml, "NaN or infinite inputs");
        Build(ml, kind, o => o.SkipRowsWithNonFiniteFeatures = true).Fit(nonFinite);
        Assert.IsTrue(skipped.Any(m => m.EndsWith("DynMoE skipped 1 training rows with NaN or infinite inputs (SkipRowsWithNonFiniteFeatures).", StringComparison.Ordinal)), string.Join("\n", skipped));
    }

    [TestMethod]
    [DynamicData(nameof(Kinds))]
    public void SavedModelsAndSeededRepeatsScoreIdentically(Kind kind)
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Rows());
        var model = Build(ml, kind).Fit(data);
        var scores = Scores(model, data);
        Assert.IsTrue(scores.All(float.IsFinite));

        CollectionAssert.AreEqual(scores, Scores(Build(new MLContext(seed: 1), kind).Fit(data), data), "the same seed trains the same model");

        using var stream = new MemoryStream();
        ml.Model.Save(model, data.Schema, stream);
        stream.Position = 0;
        var fresh = new MLContext(seed: 5);
        var loaded = fresh.Model.Load(stream, out _);
        CollectionAssert.AreEqual(scores, Scores(loaded, fresh.Data.LoadFromEnumerable(Rows())), "a loaded model scores as the trained one");
    }

    [TestMethod]
    [DynamicData(nameof(Kinds))]
    public void SeededDropoutRepeatsExactlyEvenOnParallelThreads(Kind kind)
    {
        void Dropout(DynMoETrainerOptionsBase o)
        {
            o.Dropout = 0.2f;
            if (o is DynMoEEncoderOptionsBase encoder)
                encoder.AttentionDropout = 0.2f;
        }

        var data = new MLContext(seed: 1).Data.LoadFromEnumerable(Rows());
        var scores = Scores(Build(new MLContext(seed: 1), kind, Dropout).Fit(data), data);
        Assert.IsTrue(scores.All(float.IsFinite));

        // Two more fits at once, on two threads: libtorch's own dropout would have them take each other's draws.
        var repeats = new[] { 0, 1 }.AsParallel().WithDegreeOfParallelism(2)
            .Select(_ => Scores(Build(new MLContext(seed: 1), kind, Dropout).Fit(data), data)).ToArray();
        foreach (var repeat in repeats)
            CollectionAssert.AreEqual(scores, repeat, "the same seed trains the same model with dropout");

        var withoutDropout = Scores(Build(new MLContext(seed: 1), kind, o =>
        {
            o.Dropout = 0;
            if (o is DynMoEEncoderOptionsBase encoder)
                encoder.AttentionDropout = 0;
        }).Fit(data), data);
        CollectionAssert.AreNotEqual(scores, withoutDropout, "dropout changes the fit (from the same initial weights)");
    }
}
