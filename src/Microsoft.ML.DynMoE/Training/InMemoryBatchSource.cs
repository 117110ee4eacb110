using System;
using System.Collections.Generic;

namespace Microsoft.ML.DynMoE.Training;

/// <summary>Rows cached in flat arrays; an epoch is a seeded permutation of row indices.</summary>
internal sealed class InMemoryBatchSource : ITrainingBatchSource
{
    private readonly float[] _features;
    private readonly float[] _labels;
    private readonly float[] _weights;

    public InMemoryBatchSource(float[] features, float[] labels, float[] weights, int featureCount)
    {
        _features = features;
        _labels = labels;
        _weights = weights;
        FeatureCount = featureCount;
    }

    public int FeatureCount { get; }

    public long RowCount => _labels.Length;

    public IEnumerable<TrainingBatch> GetBatches(int batchSize, Random? shuffle)
    {
        int rows = _labels.Length;
        int[] order = new int[rows];
        for (int i = 0; i < rows; i++)
            order[i] = i;
        shuffle?.Shuffle(order);

        var batch = new TrainingBatch(batchSize, FeatureCount);
        for (int start = 0; start < rows; start += batchSize)
        {
            int count = Math.Min(batchSize, rows - start);
            for (int i = 0; i < count; i++)
            {
                int row = order[start + i];
                Array.Copy(_features, (long)row * FeatureCount, batch.Features, (long)i * FeatureCount, FeatureCount);
                batch.Labels[i] = _labels[row];
                batch.Weights[i] = _weights[row];
            }
            batch.Rows = count;
            yield return batch;
        }
    }
}
