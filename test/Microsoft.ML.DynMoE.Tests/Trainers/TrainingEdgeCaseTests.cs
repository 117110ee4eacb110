using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
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
        var noGpu = Assert.ThrowsExactly<InvalidOperationException>(() => DeviceSelection.Resolve(DynMoEDevice.Auto, 0, fallbackToCpu: false, () => false));
        StringAssert.Contains(noGpu.Message, "MLContext.GpuDeviceId is 0 and MLContext.FallbackToCpu is false");
        StringAssert.Contains(noGpu.Message, "set MLContext.FallbackToCpu to true, or set Device to DynMoEDevice.Cpu");
        Assert.AreEqual(DeviceType.CPU, DeviceSelection.Resolve(DynMoEDevice.Auto, 0, fallbackToCpu: true, () => false).type, "fallback to the CPU");
        var second = DeviceSelection.Resolve(DynMoEDevice.Auto, 1, fallbackToCpu: false, () => true);
        Assert.AreEqual(DeviceType.CUDA, second.type);
        Assert.AreEqual(1, second.index, "the GPU the context names");
        Assert.AreEqual(DeviceType.CPU, DeviceSelection.Resolve(DynMoEDevice.Cpu, 1, fallbackToCpu: false, () => true).type, "Device = Cpu overrides the context");
        Assert.AreEqual(1, DeviceSelection.Resolve(DynMoEDevice.Cuda, 1, fallbackToCpu: true, () => true).index, "Device = Cuda uses the context's GPU index");
        Assert.AreEqual(DeviceType.CPU, DeviceSelection.Resolve(DynMoEDevice.Auto, null, fallbackToCpu: true, () => false).type, "no GPU named, none available");
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
        var rows = new CountingRows();
        var ml = new MLContext(seed: 1);
        var options = Small();
        options.EarlyStoppingPatience = 2;
        var noValidation = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.BinaryClassification.Trainers.DynMoE(options).Fit(ml.Data.LoadFromEnumerable(rows.Rows(200))));
        StringAssert.Contains(noValidation.Message, "EarlyStoppingPatience is 2 but no validation data was given");
        Assert.AreEqual("EarlyStoppingPatience", noValidation.ParamName);
        Assert.AreEqual(0, rows.Read);

        var train = ml.Data.LoadFromEnumerable(new CountingRows().Rows(200));
        var empty = ml.Data.LoadFromEnumerable(Array.Empty<Row>());
        var emptyValidation = Assert.ThrowsExactly<InvalidOperationException>(() => ml.BinaryClassification.Trainers.DynMoE(options).Fit(train, empty));
        StringAssert.Contains(emptyValidation.Message, "The validation data has no usable rows (0 rows read");
    }
}
