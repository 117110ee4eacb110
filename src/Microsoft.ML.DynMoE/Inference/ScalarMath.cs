namespace Microsoft.ML.DynMoE.Inference;

/// <summary>Scalar functions the managed forward pass needs and .NET does not ship (erf for exact GELU).</summary>
internal static class ScalarMath
{
    /// <summary>Exact GELU, x·Φ(x), as torch computes it by default (not the tanh approximation).</summary>
    public static float Gelu(float x) => (float)(0.5 * x * (1.0 + Erf(x / Math.Sqrt(2.0))));

    public static float Silu(float x) => (float)(x / (1.0 + Math.Exp(-x)));

    /// <summary>Softmax shifted by the largest value first, so logits above ~88 do not overflow to NaN.</summary>
    public static void SoftMax(ReadOnlySpan<float> logits, Span<float> probabilities)
    {
        float max = System.Numerics.Tensors.TensorPrimitives.Max(logits);
        System.Numerics.Tensors.TensorPrimitives.Subtract(logits, max, probabilities);
        System.Numerics.Tensors.TensorPrimitives.Exp(probabilities, probabilities);
        float sum = System.Numerics.Tensors.TensorPrimitives.Sum(probabilities);
        System.Numerics.Tensors.TensorPrimitives.Divide(probabilities, sum, probabilities);
    }

    public static float Sigmoid(float x) => (float)(1.0 / (1.0 + Math.Exp(-(double)x)));

    /// <summary>
    /// erf in double precision via the complementary error function's Chebyshev fit (fractional error below
    /// 1.2e-7 everywhere), which is well inside the 1e-5 agreement we promise with TorchSharp.
    /// </summary>
    public static double Erf(double x)
    {
        double z = Math.Abs(x);
        double t = 1.0 / (1.0 + 0.5 * z);
        double erfc = t * Math.Exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
            t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
            t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? 1.0 - erfc : erfc - 1.0;
    }
}
