using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML.DynMoE.Training;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.DynMoE.Tests.Training;

[TestClass]
public sealed class SequenceBatchSourceTests
{
    [TestMethod]
    public void PaddingFractionCountsTrainingBatchesOnly()
    {
        // Rows of 1 and 3 values in one batch of two: width 3, so 2 of the 6 values are padding.
        var source = new SequenceBatchSource(new List<float[]> { new float[] { 1 }, new float[] { 1, 2, 3 } }, new float[] { 0, 1 }, new float[] { 1, 1 });
        var training = source.GetBatches(2, new Random(1)).ToArray();
        Assert.HasCount(1, training);
        Assert.AreEqual(3, training[0].Features.Length / 2);
        Assert.AreEqual(2.0 / 6, source.PaddingFraction, 1e-12);

        // An evaluation pass (no shuffle: validation, routing measurement) leaves the training figure alone.
        _ = source.GetBatches(1, null).ToArray();
        Assert.AreEqual(2.0 / 6, source.PaddingFraction, 1e-12);
    }

    [TestMethod]
    public void SequencesEvaluateInTrainingSizeBatchesAndTabularRowsInFourfoldOnes()
    {
        // A sequence row's activations grow with its length, so the no-gradient passes keep the training batch; a
        // tabular row is small, so they take 4× (capped).
        ITrainingBatchSource sequences = new SequenceBatchSource(new List<float[]> { new float[] { 1 } }, new float[] { 0 }, new float[] { 1 });
        ITrainingBatchSource tabular = new InMemoryBatchSource(new RowBlockStore(3));
        Assert.AreEqual(32, sequences.EvaluationBatchSize(32));
        Assert.AreEqual(128, tabular.EvaluationBatchSize(32));
        Assert.AreEqual(1 << 16, tabular.EvaluationBatchSize(1 << 15));
    }
}
