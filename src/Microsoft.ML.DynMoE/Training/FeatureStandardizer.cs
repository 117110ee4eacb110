using System.Runtime.CompilerServices;

namespace Microsoft.ML.DynMoE.Training;

/// <summary>Per-feature (x − mean) / std learned from the training rows and stored in the model, so users need no normaliser.</summary>
internal sealed class FeatureStandardizer
{
    public FeatureStandardizer(float[] mean, float[] inverseStd)
    {
        Mean = mean;
        InverseStd = inverseStd;
    }

    public float[] Mean { get; }

    public float[] InverseStd { get; }

    public int FeatureCount => Mean.Length;

    /// <summary>Builds from running sums over <paramref name="count"/> rows (or total weight); constant features get scale 1 so they pass through as 0.</summary>
    public static FeatureStandardizer FromMoments(double[] mean, double[] m2, double count)
    {
        var m = new float[mean.Length];
        var inv = new float[mean.Length];
        for (int i = 0; i < mean.Length; i++)
        {
            m[i] = (float)mean[i];
            double std = count > 1 ? Math.Sqrt(m2[i] / (count - 1)) : 0;
            inv[i] = std > 1e-12 ? (float)(1.0 / std) : 1f;
        }
        return new FeatureStandardizer(m, inv);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Apply(ReadOnlySpan<float> input, Span<float> output)
    {
        System.Numerics.Tensors.TensorPrimitives.Subtract(input, Mean, output);
        System.Numerics.Tensors.TensorPrimitives.Multiply(output, InverseStd, output);
    }
}
