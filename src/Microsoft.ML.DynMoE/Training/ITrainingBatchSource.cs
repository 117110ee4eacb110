namespace Microsoft.ML.DynMoE.Training;

/// <summary>
/// Where the training loop gets its mini-batches: features already standardised, labels already encoded for
/// the objective (class index, 0/1, or standardised target), weights ≥ 0. Implementations either hold the
/// rows in memory or stream them, so the loop does not care whether the data fits the cache budget.
/// </summary>
internal interface ITrainingBatchSource
{
    int FeatureCount { get; }

    long RowCount { get; }

    /// <summary>Yields the rows of one epoch in batches; with a <paramref name="shuffle"/> generator, in a random order.</summary>
    IEnumerable<TrainingBatch> GetBatches(int batchSize, Random? shuffle);

    /// <summary>
    /// Rows per batch of the no-gradient passes (validation, the final routing pass): fewer, larger batches where a
    /// row is small, as tabular rows are.
    /// </summary>
    int EvaluationBatchSize(int trainingBatchSize) => (int)Math.Min(trainingBatchSize * 4L, 1 << 16);
}
