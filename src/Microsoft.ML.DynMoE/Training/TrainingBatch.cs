namespace Microsoft.ML.DynMoE.Training;

/// <summary>One mini-batch in row-major managed buffers; sources reuse the buffers between batches.</summary>
internal sealed class TrainingBatch
{
    public TrainingBatch(int capacity, int featureCount)
    {
        Features = new float[capacity * featureCount];
        Labels = new float[capacity];
        Weights = new float[capacity];
        FeatureCount = featureCount;
    }

    public float[] Features { get; }

    public float[] Labels { get; }

    public float[] Weights { get; }

    public int FeatureCount { get; }

    public int Rows { get; set; }
}
