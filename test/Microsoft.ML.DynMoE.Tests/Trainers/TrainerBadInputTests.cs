using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.DynMoE.Training;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.DynMoE.Tests.Trainers;

/// <summary>Bad input fails with the right exception type and a message that names the column or option and the fix.</summary>
[TestClass]
public sealed class TrainerBadInputTests
{
    private sealed class Row
    {
        public string Label { get; set; } = "a";
        [VectorType(3)] public float[] Features { get; set; } = new float[3];
        public float Single { get; set; }
        public float Target { get; set; }
        public bool Flag { get; set; }
    }

    private static MLContext Ml => new(seed: 1);

    private static IEnumerable<Row> Rows(int count, Func<int, Row>? make = null)
        => Enumerable.Range(0, count).Select(i => make?.Invoke(i) ?? new Row
        {
            Label = i % 2 == 0 ? "a" : "b",
            Features = new float[] { i % 2, (i * 7 % 5) / 5f, i / (float)count },
            Target = i,
            Flag = i % 2 == 0,
        });

    private static DynMoEMulticlassTrainer.Options Fast() => new() { NumberOfEpochs = 2, ModelDimension = 8, ExpertHiddenDimension = 8 };

    private static IEstimator<ITransformer> Multiclass(MLContext ml, DynMoEMulticlassTrainer.Options? options = null)
        => ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.MulticlassClassification.Trainers.DynMoE(options ?? Fast()));

    private static void AssertMessage(Exception e, params string[] parts)
    {
        foreach (var part in parts)
            StringAssert.Contains(e.Message, part);
    }

    [TestMethod]
    public void MissingFeatureColumnNamesTheColumnAndConcatenate()
    {
        var ml = Ml;
        var options = Fast();
        options.FeatureColumnName = "Pixels";
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Multiclass(ml, options).Fit(ml.Data.LoadFromEnumerable(Rows(20))));
        AssertMessage(e, "Feature column 'Pixels' was not found", "Concatenate(\"Pixels\"");
        Assert.AreEqual("FeatureColumnName", e.ParamName);
    }

    [TestMethod]
    public void ScalarFeatureColumnIsRejectedWithTheFix()
    {
        var ml = Ml;
        var options = Fast();
        options.FeatureColumnName = "Single";
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Multiclass(ml, options).Fit(ml.Data.LoadFromEnumerable(Rows(20))));
        AssertMessage(e, "Feature column 'Single' must be a known-size vector of Single", "a scalar of Single", "Concatenate");
    }

    [TestMethod]
    public void MissingLabelColumnIsNamed()
    {
        var ml = Ml;
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            ml.Regression.Trainers.DynMoE(labelColumnName: "Price", numberOfEpochs: 1).Fit(ml.Data.LoadFromEnumerable(Rows(20))));
        AssertMessage(e, "Label column 'Price' was not found", "LabelColumnName");
    }

    [TestMethod]
    public void MulticlassLabelThatIsNotAKeySuggestsMapValueToKey()
    {
        var ml = Ml;
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            ml.MulticlassClassification.Trainers.DynMoE(Fast()).Fit(ml.Data.LoadFromEnumerable(Rows(20))));
        AssertMessage(e, "Label column 'Label' must be a UInt32 key for multiclass classification", "a scalar of String", "MapValueToKey(\"Label\")");
    }

    [TestMethod]
    public void BinaryAndRegressionLabelTypesAreChecked()
    {
        var ml = Ml;
        var data = ml.Data.LoadFromEnumerable(Rows(20));
        var binary = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.BinaryClassification.Trainers.DynMoE(labelColumnName: "Target").Fit(data));
        AssertMessage(binary, "Label column 'Target' must be Boolean", "ConvertType(\"Target\", outputKind: DataKind.Boolean)");
        var regression = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Regression.Trainers.DynMoE(labelColumnName: "Flag").Fit(data));
        AssertMessage(regression, "Label column 'Flag' must be a Single scalar for regression", "a scalar of Boolean", "ConvertType(\"Flag\", outputKind: DataKind.Single)");
    }

    [TestMethod]
    public void EmptyTrainingDataSaysSo()
    {
        var ml = Ml;
        var data = ml.Data.LoadFromEnumerable(Rows(10));
        var empty = ml.Data.FilterRowsByColumn(data, "Target", lowerBound: 1000, upperBound: 2000);
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => ml.Regression.Trainers.DynMoE(labelColumnName: "Target", numberOfEpochs: 1).Fit(empty));
        AssertMessage(e, "The training data has no usable rows", "'Target'", "'Features'");
    }

    [TestMethod]
    public void SingleClassIsRejectedForMulticlassAndBinary()
    {
        var ml = Ml;
        var one = ml.Data.LoadFromEnumerable(Rows(20, i => new Row { Label = "only", Features = new float[] { i, 1, 2 }, Flag = true }));
        var multi = Assert.ThrowsExactly<InvalidOperationException>(() => Multiclass(ml).Fit(one));
        AssertMessage(multi, "Label column 'Label' has a single class", "at least two");
        var binary = Assert.ThrowsExactly<InvalidOperationException>(() => ml.BinaryClassification.Trainers.DynMoE(labelColumnName: "Flag", numberOfEpochs: 1).Fit(one));
        AssertMessage(binary, "Label column 'Flag' is always true", "needs both classes");
    }

    [TestMethod]
    public void NonFiniteFeaturesFailWithRowIndexUnlessSkipped()
    {
        var ml = Ml;
        var rows = Rows(40).ToArray();
        rows[17].Features[2] = float.NaN;
        rows[23].Features[0] = float.PositiveInfinity;
        var data = ml.Data.LoadFromEnumerable(rows);
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => Multiclass(ml).Fit(data));
        AssertMessage(e, "Column 'Features' holds NaN at row 17 (slot 2)", "ReplaceMissingValues(\"Features\")", "SkipRowsWithNonFiniteFeatures");

        var log = new List<string>();
        ml.Log += (_, m) => { if (m.Message.Contains("DynMoE skipped")) lock (log) log.Add(m.Message); };
        var options = Fast();
        options.SkipRowsWithNonFiniteFeatures = true;
        Multiclass(ml, options).Fit(data);
        Assert.IsTrue(log.Any(m => m.EndsWith("DynMoE skipped 2 training rows with NaN or infinite inputs (SkipRowsWithNonFiniteFeatures).")), string.Join("\n", log));
    }

    [TestMethod]
    public void RowsWithMissingOrInfiniteLabelsAreSkippedAndCounted()
    {
        var ml = Ml;
        var rows = Rows(30).ToArray();
        rows[3].Target = float.NaN;
        rows[9].Target = float.PositiveInfinity;
        var log = new List<string>();
        ml.Log += (_, m) => { if (m.Message.Contains("DynMoE skipped")) lock (log) log.Add(m.Message); };
        ml.Regression.Trainers.DynMoE(labelColumnName: "Target", numberOfEpochs: 1).Fit(ml.Data.LoadFromEnumerable(rows));
        Assert.IsTrue(log.Any(m => m.EndsWith("DynMoE skipped 2 training rows with a missing or infinite label.")), string.Join("\n", log));
    }

    [TestMethod]
    public void KeyLabelOfAnotherRawTypeSuggestsMapValueToKey()
    {
        var ml = Ml;
        var rows = Enumerable.Range(0, 20).Select(i => new ByteKeyRow { Label = (byte)(i % 3 + 1), Features = new float[] { i, i % 3, 1 } });
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.MulticlassClassification.Trainers.DynMoE(Fast()).Fit(ml.Data.LoadFromEnumerable(rows)));
        AssertMessage(e, "Label column 'Label' must be a UInt32 key", "Key<Byte>", "MapValueToKey(\"Label\")");
    }

    [TestMethod]
    public void ValidationDataWithOtherColumnTypesIsRejected()
    {
        var ml = Ml;
        var train = ml.Transforms.Conversion.MapValueToKey("Label").Fit(ml.Data.LoadFromEnumerable(Rows(20))).Transform(ml.Data.LoadFromEnumerable(Rows(20)));
        var wide = ml.Transforms.Conversion.MapValueToKey("Label").Fit(ml.Data.LoadFromEnumerable(Rows(20)))
            .Transform(ml.Data.LoadFromEnumerable(Enumerable.Range(0, 10).Select(i => new WideRow { Label = i % 2 == 0 ? "a" : "b" })));
        var trainer = ml.MulticlassClassification.Trainers.DynMoE(Fast());
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => trainer.Fit(train, wide));
        AssertMessage(e, "Column 'Features' is Vector<Single, 5> in the validation data but Vector<Single, 3> in the training data", "same fitted featurization");
    }

    [TestMethod]
    public void OptionsOutOfRangeNameTheOption()
    {
        var ml = Ml;
        var e1 = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.MulticlassClassification.Trainers.DynMoE(new DynMoEMulticlassTrainer.Options { NumberOfEpochs = 0 }));
        Assert.AreEqual("NumberOfEpochs", e1.ParamName);
        StringAssert.Contains(e1.Message, "NumberOfEpochs must be at least 1.");
        var e2 = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.MulticlassClassification.Trainers.DynMoE(new DynMoEMulticlassTrainer.Options { Gating = GatingKind.TopK, TopK = 5, InitialExperts = 4 }));
        Assert.AreEqual("TopK", e2.ParamName);
        StringAssert.Contains(e2.Message, "TopK must be between 1 and InitialExperts (4) for top-k gating.");
        var e3 = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.MulticlassClassification.Trainers.DynMoE(new DynMoEMulticlassTrainer.Options { MaximumExperts = 2, InitialExperts = 4 }));
        Assert.AreEqual("MaximumExperts", e3.ParamName);
        var e4 = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.MulticlassClassification.Trainers.DynMoE(new DynMoEMulticlassTrainer.Options { LearningRate = float.NaN }));
        Assert.AreEqual("LearningRate", e4.ParamName);
    }

    [TestMethod]
    public void CancellationMidTrainingThrowsAndReturnsNoModel()
    {
        var ml = Ml;
        using var cancellation = new CancellationTokenSource();
        var options = Fast();
        options.NumberOfEpochs = 1000;
        options.CancellationToken = cancellation.Token;
        options.Progress = new CancelAfterFirstEpoch(cancellation);
        ITransformer? model = null;
        Assert.ThrowsExactly<OperationCanceledException>(() => model = Multiclass(ml, options).Fit(ml.Data.LoadFromEnumerable(Rows(200))));
        Assert.IsNull(model);
    }

    [TestMethod]
    public void ScoringDataWithAnotherFeatureSizeIsRejected()
    {
        var ml = Ml;
        var model = Multiclass(ml).Fit(ml.Data.LoadFromEnumerable(Rows(40)));
        var other = ml.Data.LoadFromEnumerable(new[] { new { Label = "a", Features = new float[5] } }.Select(r => new WideRow { Label = r.Label, Features = r.Features }));
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => model.Transform(other));
        AssertMessage(e, "Features", "Vector<Single, 3>", "Vector<Single, 5>");
    }

    [TestMethod]
    public void CudaWithoutCudaGivesAClearError()
    {
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => DeviceSelection.Resolve(DynMoEDevice.Cuda, null, true, cudaDeviceCount: () => 0));
        AssertMessage(e, "DynMoEDevice.Cuda", "-p:DynMoETorchBackend=cuda", "DynMoEDevice.Cpu");
        if (!TorchSharp.torch.cuda.is_available())
        {
            var ml = Ml;
            var options = Fast();
            options.Device = DynMoEDevice.Cuda;
            var fit = Assert.ThrowsExactly<InvalidOperationException>(() => Multiclass(ml, options).Fit(ml.Data.LoadFromEnumerable(Rows(20))));
            AssertMessage(fit, "no usable CUDA device");
        }
        Assert.AreEqual(TorchSharp.DeviceType.CPU, DeviceSelection.Resolve(DynMoEDevice.Auto, null, true, () => 0).type);
    }

    private sealed class ByteKeyRow
    {
        [KeyType(3)] public byte Label { get; set; }
        [VectorType(3)] public float[] Features { get; set; } = new float[3];
    }

    private sealed class WideRow
    {
        public string Label { get; set; } = "";
        [VectorType(5)] public float[] Features { get; set; } = new float[5];
    }

    private sealed class CancelAfterFirstEpoch : IProgress<DynMoETrainingProgress>
    {
        private readonly CancellationTokenSource _source;
        public CancelAfterFirstEpoch(CancellationTokenSource source) => _source = source;
        public void Report(DynMoETrainingProgress value) => _source.Cancel();
    }
}
