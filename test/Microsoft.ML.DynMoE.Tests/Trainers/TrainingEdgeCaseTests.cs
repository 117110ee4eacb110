using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.DynMoE.Training;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;

namespace Microsoft.ML.DynMoE.Tests.Trainers;

/// <summary>Training settings that cannot work fail before the data is read, with errors that name the setting.</summary>
[TestClass]
public sealed class TrainingEdgeCaseTests
{
    private sealed class Row
    {
        public bool Label { get; set; }
        [VectorType(4)] public float[] Features { get; set; } = new float[4];
    }

    /// <summary>Rows generated lazily, counting how many were read.</summary>
    private sealed class CountingRows
    {
        public int Read { get; private set; }

        public IEnumerable<Row> Rows(int count)
        {
            var random = new Random(1);
            for (int i = 0; i < count; i++)
            {
                Read++;
                var features = Enumerable.Range(0, 4).Select(_ => (float)random.NextDouble()).ToArray();
                yield return new Row { Label = features[0] > 0.5f, Features = features };
            }
        }
    }

    private static DynMoEBinaryTrainer.Options Small() => new() { NumberOfEpochs = 2, ModelDimension = 8, ExpertHiddenDimension = 8 };

    [TestMethod]
    public void DeviceFollowsTheMLContextGpuSettingsWithTheOptionAsOverride()
    {
        var noGpu = Assert.ThrowsExactly<InvalidOperationException>(() => DeviceSelection.Resolve(DynMoEDevice.Auto, 0, fallbackToCpu: false, () => 0));
        StringAssert.Contains(noGpu.Message, "MLContext.GpuDeviceId is 0 and MLContext.FallbackToCpu is false");
        StringAssert.Contains(noGpu.Message, "set MLContext.FallbackToCpu to true, or set Device to DynMoEDevice.Cpu");
        Assert.AreEqual(DeviceType.CPU, DeviceSelection.Resolve(DynMoEDevice.Auto, 0, fallbackToCpu: true, () => 0).type, "fallback to the CPU");
        var second = DeviceSelection.Resolve(DynMoEDevice.Auto, 1, fallbackToCpu: false, () => 2);
        Assert.AreEqual(DeviceType.CUDA, second.type);
        Assert.AreEqual(1, second.index, "the GPU the context names");
        Assert.AreEqual(DeviceType.CPU, DeviceSelection.Resolve(DynMoEDevice.Cpu, 1, fallbackToCpu: false, () => 2).type, "Device = Cpu overrides the context");
        Assert.AreEqual(1, DeviceSelection.Resolve(DynMoEDevice.Cuda, 1, fallbackToCpu: true, () => 2).index, "Device = Cuda uses the context's GPU index");
        Assert.AreEqual(DeviceType.CPU, DeviceSelection.Resolve(DynMoEDevice.Auto, null, fallbackToCpu: true, () => 0).type, "no GPU named, none available");
        Assert.AreEqual(DeviceType.CPU, DeviceSelection.Resolve(DynMoEDevice.Auto, null, fallbackToCpu: false, () => 2).type, "no GPU named: the CPU, as ML.NET's TorchSharp trainers, even with GPUs present");
        Assert.AreEqual(0, DeviceSelection.Resolve(DynMoEDevice.Cuda, null, fallbackToCpu: false, () => 2).index, "Device = Cuda with no GPU named: the first");
        foreach (var device in new[] { DynMoEDevice.Auto, DynMoEDevice.Cuda })
        {
            var missing = Assert.ThrowsExactly<InvalidOperationException>(() => DeviceSelection.Resolve(device, 2, fallbackToCpu: true, () => 2));
            Assert.AreEqual("MLContext.GpuDeviceId is 2, but TorchSharp sees 2 CUDA device(s), numbered 0 to 1. Set MLContext.GpuDeviceId to one of them, or leave it null.", missing.Message);
        }
    }

    [TestMethod]
    public void AnUnusableGpuFailsBeforeTheDataIsRead()
    {
        if (torch.cuda.is_available())
            Assert.Inconclusive("This machine has a usable CUDA device.");
        var rows = new CountingRows();
        var ml = new MLContext(seed: 1);
        var options = Small();
        options.Device = DynMoEDevice.Cuda;
        var cuda = Assert.ThrowsExactly<InvalidOperationException>(() => ml.BinaryClassification.Trainers.DynMoE(options).Fit(ml.Data.LoadFromEnumerable(rows.Rows(500))));
        StringAssert.Contains(cuda.Message, "no usable CUDA device");
        Assert.AreEqual(0, rows.Read, "no row is read before the device is known");

        var context = new MLContext(seed: 1) { GpuDeviceId = 0, FallbackToCpu = false };
        var fromContext = Assert.ThrowsExactly<InvalidOperationException>(() => context.BinaryClassification.Trainers.DynMoE(Small()).Fit(context.Data.LoadFromEnumerable(rows.Rows(500))));
        StringAssert.Contains(fromContext.Message, "MLContext.GpuDeviceId is 0");
        Assert.AreEqual(0, rows.Read);

        var fallback = new MLContext(seed: 1) { GpuDeviceId = 0, FallbackToCpu = true };
        fallback.BinaryClassification.Trainers.DynMoE(Small()).Fit(fallback.Data.LoadFromEnumerable(rows.Rows(100)));
        Assert.IsGreaterThan(0, rows.Read, "with FallbackToCpu the CPU trains");
    }

    [TestMethod]
    public void EarlyStoppingNeedsAUsableValidationSet()
    {
        var ml = new MLContext(seed: 1);
        var options = Small();
        options.EarlyStoppingPatience = 2;

        var train = ml.Data.LoadFromEnumerable(new CountingRows().Rows(200));
        var empty = ml.Data.LoadFromEnumerable(Array.Empty<Row>());
        var emptyValidation = Assert.ThrowsExactly<InvalidOperationException>(() => ml.BinaryClassification.Trainers.DynMoE(options).Fit(train, empty));
        StringAssert.Contains(emptyValidation.Message, "The validation data has no usable rows (0 rows read");
    }

    [TestMethod]
    public void ADivergedValidationLossIsLoggedAsAWarning()
    {
        // A learning rate of 1e30 drives the weights to ∞ in the first steps, so the validation loss is NaN.
        var ml = new MLContext(seed: 1);
        var warnings = new List<string>();
        ml.Log += (_, e) => { if (e.Kind == Runtime.ChannelMessageKind.Warning) lock (warnings) warnings.Add(e.Message); };
        var options = Small();
        options.LearningRate = 1e30f;
        var data = ml.Data.LoadFromEnumerable(new CountingRows().Rows(100));
        ml.BinaryClassification.Trainers.DynMoE(options).Fit(data, data);
        // Early stopping is on by default, so the warning also says what it does with the epoch.
        Assert.IsTrue(warnings.Any(w => w.EndsWith("] DynMoE: the validation loss of epoch 1 is NaN; training diverged: lower LearningRate. Early stopping counts the epoch as one without improvement and keeps the best finite epoch.", StringComparison.Ordinal)),
            string.Join(Environment.NewLine, warnings));

        var text = new MLContext(seed: 1);
        var textWarnings = new List<string>();
        text.Log += (_, e) => { if (e.Kind == Runtime.ChannelMessageKind.Warning) lock (textWarnings) textWarnings.Add(e.Message); };
        var messages = text.Data.LoadFromEnumerable(Enumerable.Range(0, 40).Select(i => new TextRow { Label = i % 2 == 0, Text = i % 2 == 0 ? "win money now" : "meeting at noon" }));
        text.BinaryClassification.Trainers.DynMoETextClassification(new DynMoEBinaryTextClassificationTrainer.Options
        {
            NumberOfEpochs = 1, LearningRate = 1e30f, ModelDimension = 16, ExpertHiddenDimension = 16, NumberOfHeads = 2, MaximumSequenceLength = 8,
        }).Fit(messages, messages);
        Assert.IsTrue(textWarnings.Any(w => w.EndsWith("] DynMoE: the validation loss of epoch 1 is NaN; training diverged: lower LearningRate.", StringComparison.Ordinal)), string.Join(Environment.NewLine, textWarnings));
    }

    private sealed class TextRow
    {
        public bool Label { get; set; }
        public string Text { get; set; } = "";
    }
}

/// <summary>How the data reaches training: streaming over the cache budget, and example weights.</summary>
[TestClass]
public sealed class TrainingDataTests
{
    private sealed class WineRow
    {
        public string Label { get; set; } = "";
        [VectorType(13)] public float[] Features { get; set; } = Array.Empty<float>();
        public float Weight { get; set; } = 1f;
    }

    private static WineRow[] Wine(MLContext ml)
        => ml.Data.CreateEnumerable<WineRow>(TestData.LoadNumeric(ml, "wine", DataKind.String), reuseRowObject: false, ignoreMissingColumns: true).ToArray();

    [TestMethod]
    public void StreamingClassSortedDataReachesTheAccuracyOfCachedTraining()
    {
        var ml = new MLContext(seed: 4);
        var rows = Wine(ml);
        var random = new Random(4);
        var test = rows.Where((_, i) => i % 4 == 0).ToArray();
        var train = rows.Where((_, i) => i % 4 != 0).OrderBy(r => r.Label, StringComparer.Ordinal).ToArray(); // class-sorted, as shipped
        double Accuracy(long cacheBytes)
        {
            var options = new DynMoEMulticlassTrainer.Options { NumberOfEpochs = 12, ModelDimension = 16, ExpertHiddenDimension = 16, BatchSize = 16, MaximumCacheBytes = cacheBytes };
            var model = ml.Transforms.Conversion.MapValueToKey("Label")
                .Append(ml.MulticlassClassification.Trainers.DynMoE(options)).Fit(ml.Data.LoadFromEnumerable(train));
            return ml.MulticlassClassification.Evaluate(model.Transform(ml.Data.LoadFromEnumerable(test))).MicroAccuracy;
        }

        double cached = Accuracy(1L << 30);
        double streamed = Accuracy(0);
        Assert.IsGreaterThanOrEqualTo(0.9, cached);
        Assert.IsGreaterThanOrEqualTo(cached - 0.05, streamed, $"streamed {streamed:F3} vs cached {cached:F3}");
    }

    private sealed class LabelledRow
    {
        public float Label { get; set; }
        [VectorType(2)] public float[] Features { get; set; } = new float[2];
    }

    [TestMethod]
    public void StreamedBatchesOfClassSortedRowsMixTheClasses()
    {
        var ml = new MLContext(seed: 1);
        var rows = Enumerable.Range(0, 900).Select(i => new LabelledRow { Label = i / 300, Features = new[] { i % 7, i % 11f } }).ToArray();
        var data = new RoleMappedData(ml.Data.LoadFromEnumerable(rows), label: "Label", feature: "Features");
        var reader = new TrainingDataReader(data, (row, column) => row.GetGetter<float>(column), skipNonFinite: false);
        var (_, source, _) = reader.ReadTraining(cacheBytes: 0, countLabels: true, standardizeLabels: false, () => { });
        Assert.IsInstanceOfType<StreamingBatchSource>(source, "a zero cache budget streams");

        var batches = source.GetBatches(16, new Random(1)).Select(b => b.Labels.Take(b.Rows).ToArray()).ToArray();
        Assert.AreEqual(900, batches.Sum(b => b.Length));
        int singleClass = batches.Count(b => b.Distinct().Count() == 1);
        Assert.IsLessThan(batches.Length / 10, singleClass, $"{singleClass} of {batches.Length} batches hold one class");
        Assert.HasCount(3, batches[0].Distinct().ToArray(), "the first batch already mixes the three classes");
    }

    [TestMethod]
    public void AWeightOfTwoEqualsADuplicatedRowAndInvalidWeightsAreSkippedAndCounted()
    {
        var ml = new MLContext(seed: 5);
        var rows = Wine(ml);
        // One full batch with dense gating: the weighted mean loss over the batch is then exactly the duplicated one.
        var weighted = rows.Select((r, i) => new WineRow { Label = r.Label, Features = r.Features, Weight = i % 3 == 0 ? 2f : 1f }).ToArray();
        var duplicated = rows.SelectMany((r, i) => Enumerable.Repeat(r, i % 3 == 0 ? 2 : 1)).Select(r => new WineRow { Label = r.Label, Features = r.Features }).ToArray();
        float[][] Scores(WineRow[] data, string? weightColumn, out List<string> log)
        {
            var messages = new List<string>();
            var context = new MLContext(seed: 5);
            context.Log += (_, e) => { if (e.Message.Contains("DynMoE skipped")) lock (messages) messages.Add(e.Message); };
            var options = new DynMoEMulticlassTrainer.Options
            {
                NumberOfEpochs = 5, ModelDimension = 8, ExpertHiddenDimension = 8, Gating = GatingKind.Dense, BatchSize = 512, ExampleWeightColumnName = weightColumn,
                // A hold-out and dropout masks are drawn per row, so a duplicated row would not see what a weight of 2 sees.
                ValidationFraction = 0, EarlyStoppingPatience = 0, Dropout = 0,
            };
            var model = context.Transforms.Conversion.MapValueToKey("Label")
                .Append(context.MulticlassClassification.Trainers.DynMoE(options)).Fit(context.Data.LoadFromEnumerable(data));
            log = messages;
            return model.Transform(context.Data.LoadFromEnumerable(rows)).GetColumn<float[]>("Score").ToArray();
        }

        var byWeight = Scores(weighted, "Weight", out _);
        var byCopy = Scores(duplicated, null, out _);
        var unweighted = Scores(rows, null, out _);
        double maxDifference = byWeight.Zip(byCopy).Max(p => p.First.Zip(p.Second).Max(q => Math.Abs(q.First - q.Second)));
        double weightEffect = byWeight.Zip(unweighted).Max(p => p.First.Zip(p.Second).Max(q => Math.Abs(q.First - q.Second)));
        Assert.IsLessThan(1e-4, maxDifference, "weight 2 trains like a duplicated row");
        Assert.IsGreaterThan(100 * maxDifference, weightEffect, "the weights do change the fit");

        var invalid = rows.Select((r, i) => new WineRow
        {
            Label = r.Label, Features = r.Features, Weight = (i % 20) switch { 0 => float.NaN, 1 => -1f, 2 => float.PositiveInfinity, _ => 1f },
        }).ToArray();
        Scores(invalid, "Weight", out var log);
        int expected = invalid.Count(r => !(r.Weight >= 0) || float.IsInfinity(r.Weight));
        Assert.AreEqual(27, expected);
        Assert.IsTrue(log.Any(m => m.Contains($"skipped {expected} training rows with a missing, negative or infinite weight")), string.Join("\n", log));
    }
}
