namespace Microsoft.ML.DynMoE.Training;

/// <summary>Rows cached in memory; an epoch is a seeded permutation of row indices.</summary>
internal sealed class InMemoryBatchSource : ITrainingBatchSource
{
    private readonly RowBlockStore _rows;

    /// <param name="rows">Standardised features and encoded labels.</param>
    public InMemoryBatchSource(RowBlockStore rows) => _rows = rows;

    public int FeatureCount => _rows.FeatureCount;

    public long RowCount => _rows.Count;

    public IEnumerable<TrainingBatch> GetBatches(int batchSize, Random? shuffle)
    {
        int rows = _rows.Count;
        int[] order = new int[rows];
        for (int i = 0; i < rows; i++)
            order[i] = i;
        shuffle?.Shuffle(order);

        batchSize = Math.Max(1, Math.Min(batchSize, rows));
        var batch = new TrainingBatch(batchSize, FeatureCount);
        for (int start = 0; start < rows; start += batchSize)
        {
            int count = Math.Min(batchSize, rows - start);
            for (int i = 0; i < count; i++)
            {
                int row = order[start + i];
                _rows.Features(row).CopyTo(batch.Features.AsSpan(i * FeatureCount, FeatureCount));
                batch.Labels[i] = _rows.Label(row);
                batch.Weights[i] = _rows.Weight(row);
            }
            batch.Rows = count;
            yield return batch;
        }
    }
}
